#!/usr/bin/env python3
"""Writes docs/API.md: every parameter of imgix's parameters.json with this node's support for it.

The statuses below are maintained by hand (they describe the code); the parameter list, categories, aliases and
doc links come from Tests/Fixtures/imgix/parameters.json. Run from the project root: tools/gen-api-doc.py
"""
import json, os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
data = json.load(open(os.path.join(ROOT, "Tests", "Fixtures", "imgix", "parameters.json")))
params = data["parameters"]

S, P, N = "supported", "partial", "not supported"

status = {
    # size
    "w": (S, "pixels (2–8192) or a fraction 0–1 of the source; `dpr` multiplies it; output capped at 8192×8192 keeping the shape"),
    "h": (S, "as `w`"),
    "fit": (S, "clip (default), crop, max, min, scale, fill, fillmax, clamp; `facearea` falls back to the mode listed after it (`fit=facearea,fill`), else clip — imgix's behaviour when no face is found, and this node has no face detector"),
    "crop": (S, "a fallback chain: top/bottom/left/right (combined), focalpoint, entropy (libvips smartcrop, entropy), edges (libvips smartcrop, attention: edges, skin tones and saturation — the closest libvips measure); `faces` is always skipped (no face detector) so the rest of the chain applies, else centre. Smart crops analyse a copy at most 512 px on its long side"),
    "ar": (S, "`W:H` or a bare ratio, with fit=crop and the fill modes only, as documented: with one of w/h the other is derived; with both, the largest box of that ratio inside them; alone, the source is cut (crop) or padded (fill) to the ratio at its own size"),
    "dpr": (S, "0–5, multiplies w/h (and text sizes); `ch=dpr` lets the DPR header override it"),
    "rect": (S, "x,y,w,h in pixels or fractions; x may be left/center/right, y top/middle/bottom, w/h `full`; clamped to the source, applied before sizing"),
    "min-w": (S, "with fit=crop: bounds the crop box (dpr applied)"), "max-w": (S, "as min-w"), "min-h": (S, "as min-w"), "max-h": (S, "as min-w"),
    # rotation
    "orient": (S, "1–8 replace the EXIF orientation; 90/180/270 are 6/3/8; 0 and 1 keep the stored pixels as they are"),
    "flip": (S, "h, v, hv (before rot)"),
    "rot": (S, "any angle, counter-clockwise, modulo 360, rounded to 0.01°"),
    "rot-type": (S, "straighten (default: keeps the frame, zooms to hide corners) and pivot (grows the canvas; corners bg or transparent, capped at 8192)"),
    # fill
    "bg": (S, "hex (RGB, ARGB, RRGGBB, AARRGGBB) or a CSS keyword: behind transparency flattened into formats without alpha, and the colour of padding and pivot corners"),
    "fill": (P, "solid and blur (a blurred, cover-scaled copy of the image); gen/generative and gradient are refused with 400 (no generative model, gradient not built)"),
    "fill-color": (S, "padding colour for fit=fill/fillmax; without it `bg`, else transparent where the output keeps alpha, else white (imgix's documented default)"),
    # trim
    "trim": (S, "auto (corners must agree within trim-md), color, alpha, colorunlessalpha; the box is found on a preview at most 1024 px long and mapped back, rounding outwards (up to ±1 source/1024 px)"),
    "trim-color": (S, "the colour to trim with trim=color (default: the top-left pixel)"),
    "trim-md": (S, "the colour distance threshold for trim=auto, and how close opposite corners must be"),
    "trim-sd": (P, "accepted and range-checked; the corner test uses trim-md only (libvips' find_trim has no standard-deviation test)"),
    "trim-tol": (S, "colour distance for trim=color"),
    "trim-pad": (S, "pixels kept around the content (negative trims further), ±8192"),
    "trim-alpha": (S, "alpha at or below this counts as transparent for trim=alpha"),
    # format
    "fm": (P, "jpg, pjpg, png, png8, png32, webp, avif, gif, jp2, json, blurhash; jxr, mp4 and webm are refused with 400 (no encoders)"),
    "q": (S, "0–100, default 75, for jpg/pjpg/webp/avif/jp2; ignored (and left out of the cache key) for lossless outputs"),
    "auto": (P, "format (AVIF, then WebP from Accept, with Vary: Accept), compress (q 45 unless q is given), enhance (per-channel levels stretch, gain ≤ 4×); redeye and true are refused with 400 (no eye detection)"),
    "ch": (S, "width, dpr, save-data: Width/Sec-CH-Width overrides w, DPR/Sec-CH-DPR overrides dpr, Save-Data: on lowers q to 45; the response carries Vary and Accept-CH for the hints named; refused in a source's defaultParams as imgix does"),
    "chromasub": (P, "444 and 420 (default); 422 is refused with 400 (libvips 8.14's JPEG writer cannot do it)"),
    "colorquant": (P, "palette size for png8 and gif, rounded down to a power of two (libvips 8.14 limits palettes by bit depth)"),
    "cs": (P, "strip (default: no profile), srgb, tinysrgb (a compact ~500-byte sRGB profile), adobergb1998 (Debian's compatible profile), origin (the source's profile, pixels unconverted); profiles are written to JPEG, PNG and WebP only"),
    "dl": (S, "Content-Disposition: attachment with a sanitised filename (RFC 6266 filename* for non-ASCII)"),
    "dpi": (P, "1–65535 written to JFIF (JPEG) and pHYs (PNG); imgix writes EXIF, which this node never writes"),
    "iptc": (S, "`allow` passes a JPEG source's IPTC segments byte for byte into JPEG outputs, only where the source sets `allowIPTC` (elsewhere, and for other formats, it changes nothing); nothing else of the source's metadata is kept"),
    "jpg-progressive": (S, "default true as documented; false gives baseline JPEG"),
    "lossless": (S, "WebP, AVIF and JPEG 2000"),
    "svg-sanitize": (S, "SVG sources are always rasterised by librsvg, which runs no scripts, and SVG is never served: the output is the same either way"),
    "expires": (S, "Unix seconds; past → 403 (the contract's status; imgix answers 404); bounds max-age; not part of the cache key"),
    # adjustment (imgix publishes no pixel formulas; the mappings follow Core Image's filters, whose defaults
    # imgix's match — e.g. usmrad 2.5 — and are not checked against imgix's own output)
    "bri": (S, "-100–100 (suggested range, clamped): adds bri/200 of the full range"),
    "con": (S, "-100–100: scales about mid-grey (-100 is flat grey)"),
    "exp": (S, "-100–100: exposure in linear light, exp/50 stops"),
    "gam": (S, "-100–100: level^(3^(-gam/100)); positive brightens"),
    "high": (P, "-100–0: a tone curve darkening highlights (Core Image's version is local, spatial)"),
    "shad": (P, "0–100: a tone curve lifting shadows (Core Image's version is local, spatial)"),
    "hue": (S, "degrees, modulo 360: hue rotation in LCh"),
    "invert": (S, "exact on colour, alpha untouched"),
    "sat": (S, "-100–100: chroma scaled in LCh; -100 is exact grey"),
    "vib": (S, "-100–100: chroma scaled more for muted colours"),
    "sharp": (S, "0–100: libvips sharpen on luminance"),
    "usm": (S, "-100–100: unsharp mask (negative blurs)"),
    "usmrad": (S, "0–1000, default 2.5: unsharp-mask radius; large radii use a shrink-blur-enlarge path of bounded cost"),
    "nr": (P, "edge-aware smoothing (Core Image's noise-reduction model); applied only when nr or nrs is given"),
    "nrs": (P, "edge sharpening (or softening when negative) with nr"),
    # stylize
    "blur": (S, "0–2000: gaussian, sigma = blur × 0.11 output pixels (≤ 220; bounded-cost path above 8)"),
    "monochrome": (S, "luminance overlay-blended with the tint; the colour's alpha sets the strength"),
    "sepia": (S, "0–100: sepia matrix mixed with the original"),
    "px": (S, "0–100: flat blocks from the top-left, each the average it covers"),
    "htn": (P, "0–100: black-and-white round-dot screen at 45° (imgix's halftone may be in colour)"),
    "duotone": (S, "two RGB colours: dark → first, light → second"),
    "duotone-alpha": (S, "0–100: strength of the duotone"),
    # border and padding
    "pad": (S, "0–8192 on every side; `bg` or transparent; with w/h the padded image is fitted into the box"),
    "pad-top": (S, "overrides pad for that side"), "pad-right": (S, "as pad-top"), "pad-bottom": (S, "as pad-top"), "pad-left": (S, "as pad-top"),
    "border": (S, "`width,colour`; the border grows the image and padding goes outside it (imgix documents no order; this is this node's choice)"),
    "border-top": (S, "overrides the border width for that side"), "border-right": (S, "as border-top"),
    "border-bottom": (S, "as border-top"), "border-left": (S, "as border-top"),
    "border-radius": (S, "one radius or four (tl,tr,br,bl), scaled down the CSS way when too large"),
    "border-radius-inner": (S, "rounds the image inside the border"),
    "border-stroke-color": (S, "stroke along the outer edge; default transparent (draws nothing)"),
    "border-stroke-size": (S, "stroke width"),
    # watermark
    "mark": (P, "a path on the same source, or an absolute URL under a web source's baseURL (on a proxy source: an http(s) URL on a host its allowedHosts allows); other hosts are refused (400); a mark carrying its own query parameters is refused (imgix renders them); an unreachable or undecodable mark is left out as imgix does, and that response is not cached"),
    "mark-base": (S, "prefixed to mark"),
    "mark-w": (S, "pixels, or a fraction of the mark's own size (as documented)"), "mark-h": (S, "as mark-w"),
    "mark-fit": (S, "clip (default), crop, fill, max, scale"),
    "mark-align": (S, "default bottom,right (top,left when tiled)"),
    "mark-alpha": (S, "0–100"), "mark-pad": (S, "default 5, at the aligned edges; the gap between tiles"),
    "mark-scale": (S, "percent of the image width; overrides mark-w/h"),
    "mark-x": (S, "overrides alignment on that axis"), "mark-y": (S, "as mark-x"),
    "mark-tile": (S, "grid"), "mark-rot": (S, "any angle, counter-clockwise, canvas grows with transparent corners"),
    "mark-if-min-width": (S, "drawn only when the image is at least this wide"), "mark-if-min-height": (S, "as mark-if-min-width"),
    # text
    "txt": (P, "one line, at most 1000 characters, drawn with Pango (DejaVu fonts); markup is never interpreted; colour emoji are drawn in the text colour"),
    "txt-font": (P, "CSS generic names and known faces mapped to DejaVu Sans/Serif/Mono with bold/italic; unknown faces → 400"),
    "txt-size": (S, "default 12, × dpr, at most 8192 and the image height"), "txt-color": (S, "default black; alpha honoured"),
    "txt-align": (S, "default bottom,right"), "txt-pad": (S, "default 10, × dpr"), "txt-width": (S, "the text box width"),
    "txt-clip": (S, "start, middle, end (default), ellipsis"), "txt-fit": (S, "max: shrink to fit instead of clipping"),
    "txt-line": (S, "outline inside the glyphs, ≤ 100 px"), "txt-line-color": (S, "default white"),
    "txt-shad": (S, "0–10: a soft dark halo"), "txt-x": (S, "overrides alignment"), "txt-y": (S, "overrides alignment"),
    "txt-track": (S, "letter spacing −100–100"),
    "txt-lead": (P, "checked, no effect: text is one line (imgix applies leading on its multi-line endpoint)"),
    # focal point
    "fp-x": (S, "0–1 (default 0.5) with crop=focalpoint"), "fp-y": (S, "as fp-x"),
    "fp-z": (S, "1–100 zoom around the focal point"), "fp-debug": (P, "draws a red cross through the focal point (imgix also outlines the crop)"),
}

category_reasons = {
    "background": "background removal and replacement need a segmentation or generative model; none ships with this node",
    "blending": "imgix's blend family is not in this node's scope yet (watermark and text overlays are)",
    "color-palette": "palette extraction (`palette=css|json`) is not built",
    "mask": "image masks are not built (`border-radius` covers rounded corners)",
    "face-detection": "needs a face detector; this node has none (privacy: it never identifies people)",
    "animation": "animated output is not built: GIF/WebP sources render their first frame",
    "license-plate-detection": "needs an object detector; none ships",
    "object-manipulation": "needs a generative model; none ships",
    "pdf": "PDF sources are not rendered (PDF is not an accepted source format)",
    "misc": "not applicable",
    "super-resolution": "needs an upscaling model; none ships",
    "video-rendering": "video parameters answer 400 'applies to video only'",
    "video rendering": "video parameters answer 400 'applies to video only'",
    "typesetting": "see txt-lead / txt-track",
    "fill": "generative and gradient fills are not built",
}

cats = {}
for name, p in params.items():
    cats.setdefault(p["category"], []).append(name)

lines = ["# The imgix URL API in imgedge", "",
         "Every parameter of imgix's own list (`Tests/Fixtures/imgix/parameters.json`, version %s), with what this node does"
         " with it. Generated by `tools/gen-api-doc.py`." % data.get("version", "?"), "",
         "Rules that hold for all of them: names are case-insensitive and imgix's aliases work; any parameter except",
         "`auto` and `ch` can be given URL-safe base64-encoded as `<name>64`; the first occurrence of a repeated",
         "parameter wins; parameters imgix does not define are ignored; a value that cannot be understood, or is outside",
         "a strict range, answers 400 naming the parameter and the accepted range; an imgix parameter this node does not",
         "support answers 400 \"not supported by this node\" rather than being silently ignored. The cache key is built",
         "from the resolved values, so equivalent spellings share one cached entry.", ""]
counts = {S: 0, P: 0, N: 0}
for cat in sorted(cats):
    lines.append("## " + cat)
    lines.append("")
    lines.append("| parameter | aliases | status | how |")
    lines.append("|---|---|---|---|")
    for name in sorted(cats[cat]):
        p = params[name]
        st, how = status.get(name, (N, category_reasons.get(cat, "not built yet")))
        counts[st] += 1
        al = ", ".join("`%s`" % a for a in p.get("aliases", []))
        lines.append("| [`%s`](%s) | %s | %s | %s |" % (name, p.get("url", ""), al, st, how))
    lines.append("")
lines.insert(2, "**%d supported, %d partial, %d not supported** of %d." % (counts[S], counts[P], counts[N], len(params)))
lines.insert(3, "")
open(os.path.join(ROOT, "docs", "API.md"), "w").write("\n".join(lines))
print("wrote docs/API.md:", counts)
