@testable import BoardLayout

/// A test measurer with simple, known metrics: a Han character or full-width
/// mark is one em wide, anything else half an em; a line is 1.5 em.
struct FixedWidthMeasurer: TextMeasurer {
    func width(of text: String, in style: TextStyle) -> Int {
        text.reduce(0) { total, character in
            total + (TextWrapper.isWide(character) ? style.size : style.size / 2)
        }
    }

    func lineHeight(of style: TextStyle) -> Int {
        style.size * 3 / 2
    }
}
