// libcurl's public header, exposed to Swift through pkg-config ("libcurl").
#include <curl/curl.h>
