internal import CVips
internal import CVipsLib
import EdgeCore

/// A libvips image this pipeline holds a reference to; the reference is dropped with the last Swift one.
/// Every operation returns a new image (libvips images are immutable once built).
final class VImage {
    let pointer: UnsafeMutablePointer<VipsImage>

    init(taking pointer: UnsafeMutablePointer<VipsImage>) { self.pointer = pointer }
    deinit { cvips_unref(pointer) }

    var width: Int { Int(vips_image_get_width(pointer)) }
    var height: Int { Int(vips_image_get_height(pointer)) }
    var bands: Int { Int(vips_image_get_bands(pointer)) }
    var hasAlpha: Bool { vips_image_hasalpha(pointer) != 0 }
    var interpretation: VipsInterpretation { vips_image_get_interpretation(pointer) }
    var format: VipsBandFormat { vips_image_get_format(pointer) }

    /// Runs one vips operation on this image; a failure becomes a 422 with vips' message as the detail.
    func map(_ op: (UnsafeMutablePointer<VipsImage>, inout UnsafeMutablePointer<VipsImage>?) -> Int32) throws(EdgeError) -> VImage {
        var out: UnsafeMutablePointer<VipsImage>?
        guard op(pointer, &out) == 0, let out else { throw .unprocessable(detail: VipsRuntime.takeError()) }
        return VImage(taking: out)
    }

    /// Runs a vips operation that makes a new image from no input image (loaders, generators).
    static func make(_ op: (inout UnsafeMutablePointer<VipsImage>?) -> Int32) throws(EdgeError) -> VImage {
        var out: UnsafeMutablePointer<VipsImage>?
        guard op(&out) == 0, let out else { throw .unprocessable(detail: VipsRuntime.takeError()) }
        return VImage(taking: out)
    }

    /// The background as band values for this image (with alpha when it has an alpha band).
    func pixel(_ c: RGBAColor) -> [Double] {
        let rgb = [Double(c.red), Double(c.green), Double(c.blue)]
        return hasAlpha || bands == 4 ? rgb + [Double(c.alpha)] : rgb
    }
}
