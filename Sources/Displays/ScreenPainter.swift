import BoardLayout
import CSDL2

/// Draws layouts and their parts with any SDL renderer: a software renderer
/// on a surface (headless), or a window's renderer drawing into a target
/// texture. All calls take the SDL lock.
enum ScreenPainter {
    /// Draws the whole of `layout`, replacing what the target held.
    /// - Parameter texts: lines rendered for this renderer before, kept for
    ///   the next frames; nil renders every line afresh.
    static func paint(
        _ layout: ScreenLayout, on renderer: OpaquePointer, fonts: FontSet, texts: TextTextures? = nil
    ) throws(DisplayError) {
        try withSDLLock { () throws(DisplayError) in
            try setColor(layout.background, blend: false, on: renderer)
            try check("SDL_RenderClear", SDL_RenderClear(renderer))
            for element in layout.elements {
                switch element {
                case .fill(let rect, let color):
                    try fill(rect, with: color, on: renderer)
                case .outline(let rect, let thickness, let color):
                    let t = min(thickness, rect.size.width / 2, rect.size.height / 2)
                    try fill(
                        Rect(x: rect.origin.x, y: rect.origin.y, width: rect.size.width, height: t),
                        with: color, on: renderer)
                    try fill(
                        Rect(x: rect.origin.x, y: rect.maxY - t, width: rect.size.width, height: t),
                        with: color, on: renderer)
                    try fill(
                        Rect(
                            x: rect.origin.x, y: rect.origin.y + t, width: t, height: rect.size.height - 2 * t
                        ),
                        with: color, on: renderer)
                    try fill(
                        Rect(
                            x: rect.maxX - t, y: rect.origin.y + t, width: t, height: rect.size.height - 2 * t
                        ),
                        with: color, on: renderer)
                case .pictogram(let placement):
                    try draw(placement, on: renderer)
                case .text(let block):
                    if let texts {
                        for line in block.lines where !line.text.isEmpty {
                            _ = try texts.draw(
                                .init(text: line.text, style: block.style, color: block.color),
                                font: { () throws(DisplayError) in try fonts.font(for: block.style) },
                                at: line.origin, on: renderer)
                        }
                    } else {
                        let font = try fonts.font(for: block.style)
                        for line in block.lines {
                            try draw(line.text, font: font, color: block.color, at: line.origin, on: renderer)
                        }
                    }
                }
            }
        }
    }

    /// Fills `rect` with `color`, blending by its alpha (an opaque colour
    /// replaces what is there: the same pixels without the per-pixel blend).
    static func fill(_ rect: Rect, with color: RGBAColor, on renderer: OpaquePointer) throws(DisplayError) {
        try withSDLLock { () throws(DisplayError) in
            try setColor(color, blend: color.alpha < 255, on: renderer)
            var area = sdlRect(rect)
            try check("SDL_RenderFillRect", SDL_RenderFillRect(renderer, &area))
        }
    }

    /// Fills each of the pictogram's convex polygons as a triangle fan, in one call.
    static func draw(_ placement: PictogramPlacement, on renderer: OpaquePointer) throws(DisplayError) {
        var vertices: [SDL_Vertex] = []
        var indices: [Int32] = []
        for polygon in placement.polygons where polygon.points.count >= 3 {
            let base = Int32(vertices.count)
            let color = SDL_Color(
                r: polygon.color.red, g: polygon.color.green, b: polygon.color.blue, a: polygon.color.alpha)
            for point in polygon.points {
                vertices.append(
                    SDL_Vertex(
                        position: SDL_FPoint(x: Float(point.x), y: Float(point.y)), color: color,
                        tex_coord: SDL_FPoint(x: 0, y: 0)))
            }
            for corner in 1..<Int32(polygon.points.count - 1) {
                indices += [base, base + corner, base + corner + 1]
            }
        }
        guard !indices.isEmpty else { return }
        try withSDLLock { () throws(DisplayError) in
            // Later shapes replace earlier ones: cut-outs are drawn, not blended.
            try check(
                "SDL_SetRenderDrawBlendMode", SDL_SetRenderDrawBlendMode(renderer, SDL_BLENDMODE_NONE))
            try check(
                "SDL_RenderGeometry",
                SDL_RenderGeometry(
                    renderer, nil, vertices, Int32(vertices.count), indices, Int32(indices.count)))
        }
    }

    /// Draws `text` on one line with its top-left corner at `origin`, anti-aliased
    /// (SDL_ttf "blended") and alpha-blended onto what is there.
    /// - Returns: The area the text covers; zero for empty text.
    @discardableResult
    static func draw(
        _ text: String, font: Font, color: RGBAColor, at origin: Point, on renderer: OpaquePointer
    ) throws(DisplayError) -> Rect {
        // SDL_ttf refuses empty text ("Text has zero width") rather than drawing nothing.
        guard !text.isEmpty else { return Rect(origin: origin, size: .zero) }
        return try withSDLLock { () throws(DisplayError) -> Rect in
            let (texture, size) = try TextTextures.render(text, color: color, font: font, on: renderer)
            // Destroying the texture flushes any batched copy that uses it.
            defer { SDL_DestroyTexture(texture) }
            let area = Rect(origin: origin, size: size)
            var destination = sdlRect(area)
            try check("SDL_RenderCopy", SDL_RenderCopy(renderer, texture, nil, &destination))
            return area
        }
    }

    /// Copies the renderer's current target out as RGBA.
    static func readPixels(of renderer: OpaquePointer, size: Size) throws(DisplayError) -> RGBAImage {
        try withSDLLock { () throws(DisplayError) -> RGBAImage in
            try check("SDL_RenderFlush", SDL_RenderFlush(renderer))
            var pixels = [UInt8](repeating: 0, count: size.width * size.height * 4)
            let result = pixels.withUnsafeMutableBytes {
                SDL_RenderReadPixels(
                    renderer, nil, SDL_PIXELFORMAT_RGBA32.rawValue, $0.baseAddress, Int32(size.width * 4))
            }
            try check("SDL_RenderReadPixels", result)
            return RGBAImage(width: size.width, height: size.height, pixels: pixels)
        }
    }

    static func setColor(_ color: RGBAColor, blend: Bool, on renderer: OpaquePointer) throws(DisplayError) {
        try check(
            "SDL_SetRenderDrawBlendMode",
            SDL_SetRenderDrawBlendMode(renderer, blend ? SDL_BLENDMODE_BLEND : SDL_BLENDMODE_NONE))
        try check(
            "SDL_SetRenderDrawColor",
            SDL_SetRenderDrawColor(renderer, color.red, color.green, color.blue, color.alpha))
    }

    static func check(_ call: String, _ result: Int32) throws(DisplayError) {
        if result != 0 { throw .sdl(call: call, message: lastSDLError()) }
    }

    static func sdlRect(_ rect: Rect) -> SDL_Rect {
        SDL_Rect(
            x: Int32(clamping: rect.origin.x), y: Int32(clamping: rect.origin.y),
            w: Int32(clamping: rect.size.width), h: Int32(clamping: rect.size.height))
    }
}
