import EdgeCore

/// Applies `TransformSpec.adjust` (imgix adjust parameters). (Filled in by the adjust work.)
enum AdjustStep {
    static func apply(_ image: VImage, _ ctx: PipelineContext) throws(EdgeError) -> VImage {
        image
    }
}
