import EdgeCore

/// Applies `TransformSpec.border` (imgix border parameters). (Filled in by the border work.)
enum BorderStep {
    static func apply(_ image: VImage, _ ctx: PipelineContext) throws(EdgeError) -> VImage {
        image
    }
}
