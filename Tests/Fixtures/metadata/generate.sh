#!/usr/bin/env bash
# Regenerates the images with personal metadata used by the metadata tests: corpus images with GPS position,
# camera make and serial number, owner, XMP creator, IPTC by-line and a comment written by exiftool
# (Debian: libimage-exiftool-perl). The JPEG is also tagged Orientation=6 (shown rotated).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
corpus="$here/../corpus/basics"
tags=(-GPSLatitude=48.8583 -GPSLatitudeRef=N -GPSLongitude=2.2945 -GPSLongitudeRef=E -Make=Canon -Model="EOS 5D"
      -SerialNumber=0123456789 -OwnerName="Jane Doe" -XMP-dc:Creator="Jane Doe" -Artist="Jane Doe")
cp "$corpus/jpeg_baseline_testorig.jpg" "$here/private.jpg"
exiftool -q -overwrite_original -n "${tags[@]}" -IPTC:By-line="Jane Doe" -Comment="taken at home" -Orientation=6 "$here/private.jpg"
cp "$corpus/png_rgba_transparent.png" "$here/private.png"
exiftool -q -overwrite_original -n "${tags[@]}" -PNG:Comment="taken at home" "$here/private.png"
cp "$corpus/webp_lossy_hopper.webp" "$here/private.webp"
exiftool -q -overwrite_original -n "${tags[@]}" "$here/private.webp"
cp "$corpus/gif_static_hopper.gif" "$here/private.gif"
exiftool -q -overwrite_original -n -XMP-dc:Creator="Jane Doe" -XMP:GPSLatitude=48.8583 -Comment="taken at home" "$here/private.gif"
