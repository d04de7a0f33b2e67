/// A string as a dictionary key compared and hashed by its UTF-8 bytes.
///
/// `String`'s own `==` and hash follow Unicode canonical equivalence, which
/// for Chinese text means normalising on every lookup: in laned's profile of
/// an arrival, the width and texture caches' lookups were a tenth of the
/// drawing thread's time. Two spellings of one text under different
/// normalisations are then two entries, which for a cache is only a miss.
struct ByteKey: Hashable {
    let text: String

    init(_ text: String) { self.text = text }

    static func == (a: ByteKey, b: ByteKey) -> Bool { a.text.utf8.elementsEqual(b.text.utf8) }

    func hash(into hasher: inout Hasher) {
        var text = text
        // Native strings are contiguous UTF-8 already; a bridged one is made so once.
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
