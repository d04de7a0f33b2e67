/// Places what a board says on its pixels: pure, given a text measurer.
///
/// Text sizes come from the board's geometry: the largest size at which
/// everything fits, never below what the driver can read at the viewing
/// distance unless the board is too small for it, and then flagged in
/// ``ScreenLayout/problems``. Text wraps between words (English) or characters
/// (Chinese) and is never cut.
public struct BoardLayouter: Sendable {
    public var board: BoardKind
    public var geometry: BoardGeometry
    /// Which way INSPECT's arrow points.
    public var compoundSide: CompoundSide

    public init(board: BoardKind, geometry: BoardGeometry? = nil, compoundSide: CompoundSide = .right) {
        self.board = board
        self.geometry = geometry ?? .standard(for: board)
        self.compoundSide = compoundSide
    }

    /// The screen for `state`, with text measured by `measurer`.
    public func layout(_ state: BoardState, measurer: some TextMeasurer) -> ScreenLayout {
        let content = ScreenContent(board: board, state: state, compoundSide: compoundSide)
        var screen =
            board == .xdb
            ? layoutXDB(content, measurer: measurer)
            : layoutAIOP(content, language: state.language, measurer: measurer)
        screen.problems += checkedProblems(screen)
        return screen
    }

    // MARK: XDB

    /// Frame in the instruction's colour; pictogram on top, as large as the text
    /// leaves room for; Chinese over English below it.
    private func layoutXDB(_ content: ScreenContent, measurer: some TextMeasurer) -> ScreenLayout {
        let full = Rect(x: 0, y: 0, width: geometry.width, height: geometry.height)
        let tone = BoardPalette.color(of: content.tone)
        let background = BoardPalette.xdbBackground
        let frame = max(2, geometry.width / 64)
        let margin = max(2, geometry.width / 48)
        var area = full.insetBy(frame + margin)
        var elements: [LayoutElement] = [.outline(full, thickness: frame, tone)]

        if !content.marks.isEmpty {
            let row = markRow(
                content.marks, rightEdge: area.maxX, top: area.origin.y, height: nil, measurer: measurer)
            elements += row.elements
            area.origin.y += row.height + margin / 2
            area.size.height -= row.height + margin / 2
        }

        var pieces: [Piece] = [
            Piece(text: content.headline.traditionalChinese, role: .headline, scale: 1, weight: .bold),
            Piece(text: content.headline.english, role: .headlineEnglish, scale: 0.8, weight: .bold),
        ]
        for detail in content.details {
            pieces.append(
                Piece(text: detail.text.traditionalChinese, role: .detail, scale: 0.7, weight: .regular))
            pieces.append(
                Piece(text: detail.text.english, role: .detailEnglish, scale: 0.7, weight: .regular))
        }
        let legible = geometry.minimumLegibleTextSize
        let smallestPictogram = max(16, area.size.height * 3 / 10)
        let gap = { (size: Int) in max(2, size / 6) }

        func attempt(_ size: Int, breakWords: Bool) -> [Wrapped]? {
            var wrapped: [Wrapped] = []
            for piece in pieces {
                let style = TextStyle(
                    script: .traditionalChinese, weight: piece.weight,
                    size: scaled(size, piece.scale, legible: legible))
                guard
                    let lines = wrap(
                        piece.text, style, width: area.size.width, measurer: measurer, breakWords: breakWords)
                else { return nil }
                wrapped.append(lines)
            }
            return wrapped
        }
        func textHeight(_ wrapped: [Wrapped], _ size: Int) -> Int {
            wrapped.reduce(0) { $0 + $1.height } + gap(size) * (wrapped.count - 1)
        }

        var chosen: (size: Int, wrapped: [Wrapped])?
        for size in stride(
            from: max(legible, area.size.height / 6), through: BoardGeometry.hardFloorPixels, by: -1)
        {
            if let wrapped = attempt(size, breakWords: false),
                textHeight(wrapped, size) + gap(size) + smallestPictogram <= area.size.height
            {
                chosen = (size, wrapped)
                break
            }
        }
        let size = chosen?.size ?? BoardGeometry.hardFloorPixels
        let wrapped = (chosen?.wrapped ?? attempt(size, breakWords: true) ?? []).map {
            $0.balanced(measurer: measurer)
        }

        var y = area.maxY - textHeight(wrapped, size)
        let pictogramFrame = square(
            in: Rect(
                x: area.origin.x, y: area.origin.y, width: area.size.width,
                height: max(0, y - gap(size) - area.origin.y)))
        let pictogram = PictogramPlacement(
            pictogram: content.pictogram, frame: pictogramFrame, primary: tone, secondary: background)
        elements.append(.pictogram(pictogram))
        for (piece, lines) in zip(pieces, wrapped) {
            elements.append(
                .text(
                    lines.block(
                        role: piece.role, x: area.origin.x, y: y, width: area.size.width,
                        color: BoardPalette.text,
                        centred: true)))
            y += lines.height + gap(size)
        }

        return ScreenLayout(
            board: .xdb, size: full.size, background: background, elements: elements, instructionRegion: full,
            instructionColor: tone, instructionPictogram: pictogram, languageTargets: [:],
            problems: legibilityProblems(elements, minimum: legible))
    }

    // MARK: AIOP

    /// Status bar (plate, marks) on top, language bar at the bottom; between
    /// them the instruction panel in its colour (pictogram left, text right),
    /// then detail lines and overlay banners.
    private func layoutAIOP(
        _ content: ScreenContent, language: BoardState.Language, measurer: some TextMeasurer
    ) -> ScreenLayout {
        let full = Rect(x: 0, y: 0, width: geometry.width, height: geometry.height)
        let tone = BoardPalette.color(of: content.tone)
        let ink = BoardPalette.ink(on: content.tone)
        let pad = max(4, geometry.width / 50)
        let legible = geometry.minimumLegibleTextSize
        let script = language.script
        var elements: [LayoutElement] = []
        var problems: [LayoutProblem] = []

        // Status bar: the plate on the left, officers' marks on the right.
        let barStyle = TextStyle(script: script, weight: .bold, size: legible)
        let barHeight = measurer.lineHeight(of: barStyle) + pad
        elements.append(.fill(Rect(x: 0, y: 0, width: full.size.width, height: barHeight), BoardPalette.bar))
        let marks = markRow(
            content.marks, rightEdge: full.maxX - pad, top: 0, height: barHeight, measurer: measurer)
        elements += marks.elements
        if let vrn = content.vrn {
            let label = "\(BoardText.vehicleLabel.text(in: language))  \(vrn.value)"
            let width = full.size.width - marks.width - 3 * pad
            let lines = wrap(label, barStyle, width: width, measurer: measurer, breakWords: true) ?? Wrapped()
            if lines.lines.count > 1 { problems.append(.overflow(role: .vehicle, text: label)) }
            elements.append(
                .text(
                    lines.block(
                        role: .vehicle, x: pad, y: (barHeight - lines.lineHeight) / 2, width: width,
                        color: BoardPalette.text, centred: false)))
        }

        // Language bar: the active language inverted and bold, not only coloured.
        var languageTargets: [BoardState.Language: Rect] = [:]
        let languageTop = full.size.height - barHeight
        elements.append(
            .fill(Rect(x: 0, y: languageTop, width: full.size.width, height: barHeight), BoardPalette.bar))
        let cellWidth = full.size.width / BoardState.Language.allCases.count
        for (index, option) in BoardState.Language.allCases.enumerated() {
            let cell = Rect(
                x: index * cellWidth, y: languageTop,
                width: index == BoardState.Language.allCases.count - 1
                    ? full.size.width - index * cellWidth : cellWidth,
                height: barHeight)
            languageTargets[option] = cell
            let active = option == language
            let style = TextStyle(script: option.script, weight: active ? .bold : .regular, size: legible)
            let lines =
                wrap(
                    option.nativeName, style, width: cell.size.width - pad, measurer: measurer,
                    breakWords: true)
                ?? Wrapped()
            if lines.lines.count > 1 { problems.append(.overflow(role: .language, text: option.nativeName)) }
            if active {
                elements.append(.fill(cell.insetBy(3), BoardPalette.text))
            } else {
                elements.append(.outline(cell.insetBy(3), thickness: 1, BoardPalette.dimText))
            }
            elements.append(
                .text(
                    lines.block(
                        role: .language, x: cell.origin.x,
                        y: languageTop + (barHeight - lines.lineHeight) / 2,
                        width: cell.size.width, color: active ? BoardPalette.bar : BoardPalette.dimText,
                        centred: true)))
        }

        // The middle: instruction panel, details, overlays.
        let middle = Rect(
            x: pad, y: barHeight + pad, width: full.size.width - 2 * pad,
            height: languageTop - barHeight - 2 * pad)
        let pictogramColumn = middle.size.width * 28 / 100
        let headlineWidth = middle.size.width - pictogramColumn - 2 * pad
        let innerWidth = middle.size.width - 2 * pad
        let smallestPictogram = min(pictogramColumn - pad, middle.size.height / 4)
        let gap = pad / 2

        func attempt(_ size: Int, breakWords: Bool) -> AIOPPlan? {
            let small = scaled(size, 0.5, legible: legible)
            let smallStyle = TextStyle(script: script, weight: .regular, size: small)
            let smallLine = measurer.lineHeight(of: smallStyle)
            guard
                let headline = wrap(
                    content.headline.text(in: language), TextStyle(script: script, weight: .bold, size: size),
                    width: headlineWidth, measurer: measurer, breakWords: breakWords)
            else { return nil }
            var plan = AIOPPlan(headline: headline, details: [], overlays: [], rest: 0)
            for detail in content.details {
                let icon = detail.pictogram == nil ? 0 : smallLine
                guard
                    let text = wrap(
                        detail.text.text(in: language), smallStyle,
                        width: innerWidth - (icon > 0 ? icon + pad : 0),
                        measurer: measurer, breakWords: breakWords)
                else { return nil }
                plan.details.append((icon, text))
                plan.rest += gap + max(icon, text.height)
            }
            for overlay in content.overlays {
                let icon = smallLine * 3 / 2
                let width = innerWidth - icon - pad
                guard
                    let title = wrap(
                        overlay.title.text(in: language),
                        TextStyle(script: script, weight: .bold, size: small),
                        width: width, measurer: measurer, breakWords: breakWords)
                else { return nil }
                var body: Wrapped?
                if let text = overlay.body {
                    guard
                        let wrapped = wrap(
                            text, smallStyle, width: width, measurer: measurer, breakWords: breakWords)
                    else { return nil }
                    body = wrapped
                }
                plan.overlays.append((icon, title, body))
                plan.rest += gap + max(icon, title.height + (body?.height ?? 0)) + pad
            }
            return plan
        }
        func fits(_ plan: AIOPPlan) -> Bool {
            max(plan.headline.height, smallestPictogram) + 2 * pad + plan.rest <= middle.size.height
        }

        var chosen: AIOPPlan?
        for size in stride(
            from: max(legible, middle.size.height / 5), through: BoardGeometry.hardFloorPixels, by: -1)
        {
            if let plan = attempt(size, breakWords: false), fits(plan) {
                chosen = plan
                break
            }
        }
        var plan =
            chosen ?? attempt(BoardGeometry.hardFloorPixels, breakWords: true)
            ?? AIOPPlan(headline: Wrapped(), details: [], overlays: [], rest: 0)
        plan.headline = plan.headline.balanced(measurer: measurer)
        plan.details = plan.details.map { ($0.icon, $0.text.balanced(measurer: measurer)) }
        plan.overlays = plan.overlays.map {
            ($0.icon, $0.title.balanced(measurer: measurer), $0.body?.balanced(measurer: measurer))
        }

        let panel = Rect(
            x: middle.origin.x, y: middle.origin.y, width: middle.size.width,
            height: max(0, middle.size.height - plan.rest))
        elements.append(.fill(panel, tone))
        let pictogramFrame = square(
            in: Rect(
                x: panel.origin.x + pad, y: panel.origin.y + pad, width: pictogramColumn - pad,
                height: max(0, panel.size.height - 2 * pad)))
        let pictogram = PictogramPlacement(
            pictogram: content.pictogram, frame: pictogramFrame, primary: ink, secondary: tone)
        elements.append(.pictogram(pictogram))
        elements.append(
            .text(
                plan.headline.block(
                    role: .headline, x: panel.origin.x + pictogramColumn + pad,
                    y: panel.origin.y + (panel.size.height - plan.headline.height) / 2, width: headlineWidth,
                    color: ink, centred: false)))

        var y = panel.maxY
        for (detail, placed) in zip(content.details, plan.details) {
            y += gap
            let rowHeight = max(placed.icon, placed.text.height)
            var x = middle.origin.x + pad
            if let icon = detail.pictogram {
                elements.append(
                    .pictogram(
                        PictogramPlacement(
                            pictogram: icon,
                            frame: Rect(
                                x: x, y: y + (rowHeight - placed.icon) / 2, width: placed.icon,
                                height: placed.icon),
                            primary: BoardPalette.text, secondary: BoardPalette.aiopBackground)))
                x += placed.icon + pad
            }
            elements.append(
                .text(
                    placed.text.block(
                        role: .detail, x: x, y: y + (rowHeight - placed.text.height) / 2,
                        width: middle.maxX - pad - x, color: BoardPalette.text, centred: false)))
            y += rowHeight
        }
        for (overlay, placed) in zip(content.overlays, plan.overlays) {
            y += gap
            let textHeight = placed.title.height + (placed.body?.height ?? 0)
            let banner = Rect(
                x: middle.origin.x, y: y, width: middle.size.width, height: max(placed.icon, textHeight) + pad
            )
            elements.append(.fill(banner, BoardPalette.overlay))
            let iconColor = overlay.kind == .helpRinging ? BoardPalette.mark : BoardPalette.text
            elements.append(
                .pictogram(
                    PictogramPlacement(
                        pictogram: overlay.pictogram,
                        frame: Rect(
                            x: banner.origin.x + pad,
                            y: banner.origin.y + (banner.size.height - placed.icon) / 2,
                            width: placed.icon, height: placed.icon),
                        primary: iconColor, secondary: BoardPalette.overlay)))
            let x = banner.origin.x + 2 * pad + placed.icon
            var textY = banner.origin.y + (banner.size.height - textHeight) / 2
            elements.append(
                .text(
                    placed.title.block(
                        role: .overlay, x: x, y: textY, width: banner.maxX - pad - x,
                        color: BoardPalette.text,
                        centred: false)))
            textY += placed.title.height
            if let body = placed.body {
                elements.append(
                    .text(
                        body.block(
                            role: .officerText, x: x, y: textY, width: banner.maxX - pad - x,
                            color: BoardPalette.text, centred: false)))
            }
            y = banner.maxY
        }

        return ScreenLayout(
            board: .aiop, size: full.size, background: BoardPalette.aiopBackground, elements: elements,
            instructionRegion: panel, instructionColor: tone, instructionPictogram: pictogram,
            languageTargets: languageTargets,
            problems: problems + legibilityProblems(elements, minimum: legible))
    }

    // MARK: Shared parts

    /// Officers' marks in a row ending at `rightEdge`, each an outlined badge
    /// with a pictogram and a bilingual label, at the smallest legible size:
    /// they are read by officers standing close, not from the cab.
    private func markRow(
        _ marks: [ScreenContent.Mark], rightEdge: Int, top: Int, height: Int?, measurer: some TextMeasurer
    ) -> (elements: [LayoutElement], width: Int, height: Int) {
        guard !marks.isEmpty else { return ([], 0, 0) }
        let style = TextStyle(
            script: .traditionalChinese, weight: .regular, size: BoardGeometry.smallestLegiblePixels)
        let line = measurer.lineHeight(of: style)
        let rowHeight = height ?? line + 4
        let inset = 3
        var elements: [LayoutElement] = []
        var right = rightEdge
        for mark in marks.reversed() {
            let textWidth = measurer.width(of: mark.label, in: style)
            let icon = max(8, line - 2 * inset)
            let badge = Rect(
                x: right - (textWidth + icon + 4 * inset),
                y: top + max(0, (rowHeight - line - 2 * inset) / 2),
                width: textWidth + icon + 4 * inset, height: min(rowHeight, line + 2 * inset))
            elements.append(.outline(badge, thickness: 2, BoardPalette.mark))
            elements.append(
                .pictogram(
                    PictogramPlacement(
                        pictogram: mark.pictogram,
                        frame: Rect(
                            x: badge.origin.x + inset, y: badge.origin.y + (badge.size.height - icon) / 2,
                            width: icon,
                            height: icon),
                        primary: BoardPalette.mark, secondary: BoardPalette.bar)))
            elements.append(
                .text(
                    TextBlock(
                        role: .mark,
                        box: Rect(
                            x: badge.origin.x + icon + 2 * inset,
                            y: badge.origin.y + (badge.size.height - line) / 2,
                            width: textWidth, height: line),
                        style: style, color: BoardPalette.mark,
                        lines: [
                            TextLine(
                                text: mark.label,
                                origin: Point(
                                    x: badge.origin.x + icon + 2 * inset,
                                    y: badge.origin.y + (badge.size.height - line) / 2), width: textWidth)
                        ], lineHeight: line)))
            right = badge.origin.x - inset * 2
        }
        return (elements, rightEdge - right, rowHeight)
    }

    /// Text smaller than the viewing distance allows, except the officers' marks.
    private func legibilityProblems(_ elements: [LayoutElement], minimum: Int) -> [LayoutProblem] {
        elements.compactMap { element in
            guard case .text(let block) = element, block.role != .mark, block.style.size < minimum else {
                return nil
            }
            return .belowLegibleSize(role: block.role, size: block.style.size, minimum: minimum)
        }
    }

    /// Overflow as a reader of the finished layout sees it: a line wider than
    /// its box, a box off the screen, or two texts on top of each other.
    private func checkedProblems(_ screen: ScreenLayout) -> [LayoutProblem] {
        let full = Rect(origin: .zero, size: screen.size)
        let blocks = screen.textBlocks
        var problems: [LayoutProblem] = []
        for (index, block) in blocks.enumerated() {
            let text = block.lines.map(\.text).joined(separator: " ")
            let overlapping = blocks[(index + 1)...].contains { $0.box.intersects(block.box) }
            if !full.contains(block.box) || block.lines.contains(where: { $0.width > block.box.size.width })
                || block.lines.count * block.lineHeight > block.box.size.height || overlapping
            {
                problems.append(.overflow(role: block.role, text: text))
            }
        }
        return problems
    }
}

/// The AIOP's texts wrapped at one headline size, and the height all but the panel need.
private struct AIOPPlan {
    var headline: Wrapped
    var details: [(icon: Int, text: Wrapped)]
    var overlays: [(icon: Int, title: Wrapped, body: Wrapped?)]
    var rest: Int
}

/// A text to place on the XDB and how its size relates to the headline's.
private struct Piece {
    var text: String
    var role: TextRole
    var scale: Double
    var weight: FontWeight
}

/// Text broken into lines at one style, with each line's width.
private struct Wrapped {
    var style = TextStyle(script: .traditionalChinese, weight: .regular, size: BoardGeometry.hardFloorPixels)
    var lines: [String] = []
    var widths: [Int] = []
    var lineHeight = 0
    /// The width the lines were broken to fit.
    var maxWidth = 0
    var brokeWords = false
    /// The text before breaking.
    var source = ""

    var height: Int { lines.count * lineHeight }

    /// The same number of lines, each as close to the same width as the
    /// breaks allow: the narrowest width that still needs no more lines. A
    /// headline then reads "請駛往海關驗貨場 / 接受檢查" rather than leaving
    /// one character alone on its last line.
    func balanced(measurer: some TextMeasurer) -> Wrapped {
        guard lines.count > 1, !brokeWords else { return self }
        let text = source
        var low = 1
        var high = maxWidth
        var best = self
        while low < high {
            let middle = (low + high) / 2
            if let candidate = wrap(text, style, width: middle, measurer: measurer, breakWords: false),
                candidate.lines.count <= lines.count
            {
                best = candidate
                high = middle
            } else {
                low = middle + 1
            }
        }
        best.maxWidth = maxWidth
        return best
    }

    /// A block whose lines start at `y`, each either left-aligned at `x` or centred in `width`.
    func block(role: TextRole, x: Int, y: Int, width: Int, color: RGBAColor, centred: Bool) -> TextBlock {
        let placed = zip(lines, widths).enumerated().map { index, line in
            TextLine(
                text: line.0,
                origin: Point(x: centred ? x + max(0, (width - line.1) / 2) : x, y: y + index * lineHeight),
                width: line.1)
        }
        return TextBlock(
            role: role, box: Rect(x: x, y: y, width: width, height: height), style: style, color: color,
            lines: placed, lineHeight: lineHeight)
    }
}

private func wrap(
    _ text: String, _ style: TextStyle, width: Int, measurer: some TextMeasurer, breakWords: Bool
) -> Wrapped? {
    guard
        let lines = TextWrapper.lines(
            of: text, in: style, maxWidth: width, measurer: measurer, breakWords: breakWords)
    else { return nil }
    return Wrapped(
        style: style, lines: lines, widths: lines.map { measurer.width(of: $0, in: style) },
        lineHeight: measurer.lineHeight(of: style), maxWidth: width, brokeWords: breakWords,
        source: text)
}

/// A size relative to the headline's: scaled, but not below the legible size
/// unless the headline itself is already below it.
private func scaled(_ size: Int, _ scale: Double, legible: Int) -> Int {
    size <= legible ? size : max(legible, Int((Double(size) * scale).rounded()))
}

/// The largest square centred in `rect`.
private func square(in rect: Rect) -> Rect {
    let side = min(rect.size.width, rect.size.height)
    return Rect(
        x: rect.origin.x + (rect.size.width - side) / 2, y: rect.origin.y + (rect.size.height - side) / 2,
        width: side, height: side)
}
