import EdgeCore

/// Applies `TransformSpec.rotation` (imgix rotation parameters). (Filled in by the rotation work.)
enum RotationStep {
    static func apply(_ image: VImage, _ ctx: PipelineContext) throws(EdgeError) -> VImage {
        image
    }
}
