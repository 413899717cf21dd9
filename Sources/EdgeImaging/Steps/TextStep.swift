import EdgeCore

/// Applies `TransformSpec.text` (imgix text parameters). (Filled in by the text work.)
enum TextStep {
    static func apply(_ image: VImage, _ ctx: PipelineContext) throws(EdgeError) -> VImage {
        image
    }
}
