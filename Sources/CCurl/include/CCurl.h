// Fixed-argument wrappers around curl_easy_setopt and curl_easy_getinfo, which are C-variadic (Swift cannot
// call them). One wrapper per argument type, named after what it wraps.
#ifndef CCURL_H
#define CCURL_H

#include <curl/curl.h>

CURLcode ccurl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode ccurl_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode ccurl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode ccurl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);

typedef size_t (*ccurl_data_callback)(char *data, size_t size, size_t count, void *context);
/// CURLOPT_WRITEFUNCTION / CURLOPT_HEADERFUNCTION take a function pointer through the same variadic slot.
CURLcode ccurl_easy_setopt_callback(CURL *handle, CURLoption option, ccurl_data_callback callback);

/// CURLOPT_OPENSOCKETFUNCTION: called with each address curl is about to connect to, after name resolution. The one
/// place a policy sees the address really connected, so no later DNS answer can change what was checked.
/// Returning CURL_SOCKET_BAD refuses that address (curl then tries the next one, if any).
typedef curl_socket_t (*ccurl_opensocket_callback)(void *context, curlsocktype purpose, struct curl_sockaddr *address);
CURLcode ccurl_easy_setopt_opensocket(CURL *handle, ccurl_opensocket_callback callback);

/// The IP address of a resolved address: copies 4 (AF_INET) or 16 (AF_INET6) bytes, network order, into `bytes`
/// and returns the count; 0 for any other family. (`struct curl_sockaddr` ends in a `struct sockaddr` that is
/// really `addrlen` bytes long, which Swift cannot read past safely.)
int ccurl_sockaddr_ip(const struct curl_sockaddr *address, unsigned char bytes[16]);

/// Opens the socket curl asked for, as curl does without an open-socket callback (close-on-exec added).
curl_socket_t ccurl_open_socket(const struct curl_sockaddr *address);

CURLcode ccurl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode ccurl_easy_getinfo_double(CURL *handle, CURLINFO info, double *value);
CURLcode ccurl_easy_getinfo_string(CURL *handle, CURLINFO info, char **value);

#endif
