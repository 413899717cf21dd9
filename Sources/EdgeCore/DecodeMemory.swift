/// What decoding a source costs in memory, from its header alone, and the admission of decodes against a budget
/// (`limits.decodeMemory`): concurrent decodes wait rather than push the node over it.
public enum DecodeMemory {
    /// How a loader holds the pixels it decodes.
    public enum Layout: Sendable, Equatable {
        /// JPEG: decoded at a DCT scale (`loadShrink`); a progressive one also holds every DCT coefficient of the
        /// full-size image (2 bytes each; `samples`: the components' samples per pixel, 1.5 for 4:2:0 YCbCr).
        case jpeg(progressive: Bool, samples: Double)
        /// Decoded a few lines at a time (baseline PNG, TIFF in strips): nothing at full size.
        case streamed
        /// Decoded whole at load (interlaced PNG, GIF, WebP, HEIF/AVIF, anything else), at `loadShrink`.
        case whole
    }

    /// The facts the estimate needs.
    public struct Source: Sendable, Equatable {
        public var width: Int
        public var height: Int
        public var bands: Int
        public var bytesPerSample: Int
        public var layout: Layout
        public init(width: Int, height: Int, bands: Int, bytesPerSample: Int = 1, layout: Layout) {
            self.width = width
            self.height = height
            self.bands = bands
            self.bytesPerSample = bytesPerSample
            self.layout = layout
        }
    }

    /// Memory a transform may use beyond its big buffers (libvips' line and tile buffers, the encoder's output,
    /// the allocator's slack).
    public static let overhead = 8 << 20

    /// Bytes a transform of `source` needs at its peak: the image as the loader holds it (at `loadShrink`, the
    /// scale it decodes at), a progressive JPEG's coefficients, and the working image at the output size, with a
    /// quarter more for what libvips and the allocator add (measured: a 12 MP progressive JPEG to 500 px peaks
    /// 59 MB above the idle node; estimated 57 MB).
    public static func estimate(_ source: Source, loadShrink: Int, outputWidth: Int, outputHeight: Int) -> Int {
        let s = Double(max(1, loadShrink))
        let w = Double(max(1, source.width)), h = Double(max(1, source.height))
        let pixel = Double(max(1, source.bands) * max(1, source.bytesPerSample))
        var bytes = 0.0
        switch source.layout {
        case .jpeg(let progressive, let samples):
            bytes += (w / s).rounded(.up) * (h / s).rounded(.up) * pixel
            if progressive { bytes += w * h * max(1, samples) * 2 }
        case .streamed:
            bytes += w * pixel * 16
        case .whole:
            bytes += (w / s).rounded(.up) * (h / s).rounded(.up) * pixel
        }
        bytes += Double(max(1, outputWidth)) * Double(max(1, outputHeight)) * max(4, pixel)
        let total = bytes * 1.25 + Double(overhead)
        return total < Double(Int.max / 2) ? Int(total) : Int.max / 2
    }

    /// Decodes admitted against a budget of bytes, first come first served: a decode waits while the ones
    /// before it do not fit (so a large one is not starved by a stream of small ones). Pure: the caller keeps
    /// the waiters' continuations under `Ticket`s.
    public struct Admission<Ticket: Hashable & Sendable>: Sendable {
        public let capacity: Int
        public let maxWaiting: Int
        public private(set) var inUse = 0
        private var queue: [(ticket: Ticket, bytes: Int)] = []

        public init(capacity: Int, maxWaiting: Int) {
            self.capacity = capacity
            self.maxWaiting = maxWaiting
        }

        public enum Decision: Sendable, Equatable {
            /// Go ahead; call `release` with the same bytes when done.
            case admitted
            /// Wait: `release` (or `withdraw`) returns the ticket when it is admitted.
            case waiting
            /// More than the whole budget: no wait can admit it (413).
            case tooLarge
            /// Too many are waiting already (503).
            case overloaded
        }

        public var waiting: Int { queue.count }

        public mutating func request(_ ticket: Ticket, bytes: Int) -> Decision {
            guard bytes <= capacity else { return .tooLarge }
            if queue.isEmpty && inUse + bytes <= capacity {
                inUse += bytes
                return .admitted
            }
            guard queue.count < maxWaiting else { return .overloaded }
            queue.append((ticket, bytes))
            return .waiting
        }

        /// A decode ended: returns the waiters admitted now, in order.
        public mutating func release(bytes: Int) -> [Ticket] {
            inUse = max(0, inUse - bytes)
            return admitWaiting()
        }

        /// A waiter gave up (its request timed out). Returns whether it was still waiting (else it was admitted
        /// already and must release), and the waiters its leaving admits.
        public mutating func withdraw(_ ticket: Ticket) -> (wasWaiting: Bool, admitted: [Ticket]) {
            guard let i = queue.firstIndex(where: { $0.ticket == ticket }) else { return (false, []) }
            queue.remove(at: i)
            return (true, i == 0 ? admitWaiting() : [])
        }

        private mutating func admitWaiting() -> [Ticket] {
            var admitted: [Ticket] = []
            while let first = queue.first, inUse + first.bytes <= capacity {
                inUse += first.bytes
                admitted.append(first.ticket)
                queue.removeFirst()
            }
            return admitted
        }
    }
}
