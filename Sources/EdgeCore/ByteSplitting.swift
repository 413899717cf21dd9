extension StringProtocol where SubSequence == Substring {
    /// The pieces between occurrences of the ASCII byte `separator`, split on bytes, never on Characters: a
    /// separator that a neighbour joins into one grapheme cluster (U+0600 before it, a combining mark after it)
    /// still separates, as it does for every HTTP parser downstream.
    public func split(byte separator: UInt8, maxSplits: Int = .max, omittingEmptySubsequences: Bool = true) -> [Substring] {
        var pieces: [Substring] = []
        var start = startIndex
        var splits = 0
        while splits < maxSplits, let at = utf8[start...].firstIndex(of: separator) {
            if !omittingEmptySubsequences || at > start { pieces.append(self[start..<at]) }
            start = utf8.index(after: at)
            splits += 1
        }
        if !omittingEmptySubsequences || start < endIndex { pieces.append(self[start...]) }
        return pieces
    }
}
