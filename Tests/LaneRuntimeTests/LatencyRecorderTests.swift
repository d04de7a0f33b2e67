import Testing

@testable import LaneRuntime

@Suite struct LatencyRecorderTests {
    @Test func medianAndP99AreWithinTheHistogramsPrecision() throws {
        var recorder = LatencyRecorder()
        // 1 µs to 100 ms, spread evenly: median 50 ms, p99 99 ms.
        for us in stride(from: 1, through: 100_000, by: 1) { recorder.record(.microseconds(us)) }
        let figures = try #require(recorder.figures)
        #expect(figures.samples == 100_000)
        #expect(abs(figures.medianMicroseconds - 50_000) / 50_000 < 0.02)
        #expect(abs(figures.p99Microseconds - 99_000) / 99_000 < 0.02)
    }

    @Test func smallValuesAreExactAndAnOutlierMovesOnlyTheTail() throws {
        var recorder = LatencyRecorder()
        for _ in 0..<99 { recorder.record(.microseconds(20)) }
        recorder.record(.seconds(3))
        let figures = try #require(recorder.figures)
        #expect(figures.medianMicroseconds == 20)
        #expect(figures.p99Microseconds == 20)
        recorder.record(.seconds(3))
        let tail = try #require(recorder.figures)
        #expect(abs(tail.p99Microseconds - 3_000_000) / 3_000_000 < 0.02)
        #expect(LatencyRecorder().figures == nil, "no samples, no figures")
    }
}
