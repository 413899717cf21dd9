import EdgeCore

/// Applies `TransformSpec.stylize` (imgix stylize parameters). (Filled in by the stylize work.)
enum StylizeStep {
    static func apply(_ image: VImage, _ ctx: PipelineContext) throws(EdgeError) -> VImage {
        image
    }
}
