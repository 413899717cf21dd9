internal import CVips
internal import CVipsLib
import EdgeCore

/// Any interpretation (CMYK, 16-bit, grey, Lab…) to 8-bit sRGB, keeping alpha. Every later step and every
/// encoder can then assume 3 or 4 bands of uchar sRGB.
enum ColourStep {
    static func apply(_ image: VImage) throws(EdgeError) -> VImage {
        var image = image
        if image.interpretation != VIPS_INTERPRETATION_sRGB {
            image = try image.map { cvips_colourspace($0, &$1, VIPS_INTERPRETATION_sRGB) }
        }
        if image.format != VIPS_FORMAT_UCHAR {
            image = try image.map { cvips_cast_uchar($0, &$1) }
        }
        return image
    }
}
