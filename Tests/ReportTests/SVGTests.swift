import Report
import Testing

@Suite struct SVGSpecification {
    @Test func escapesTheCharactersSpecialInXMLAndHTML() {
        #expect(SVG.escape(#"<a href="x">Tom & Jerry's</a>"#) == "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;")
        #expect(SVG.escape("plain °C – ünïcode") == "plain °C – ünïcode")
        #expect(SVG.escape("&amp;") == "&amp;amp;", "an entity in the input is text, escaped again")
    }

    @Test func replacesControlCharactersXMLForbids() {
        #expect(SVG.escape("a\u{0}b\u{1B}c\td\ne") == "a\u{FFFD}b\u{FFFD}c\td\ne")
    }

    @Test(arguments: [
        (12.5, "12.5"), (3.0, "3"), (-0.25, "-0.25"), (1.999, "2"), (0.004, "0"), (1234567.891, "1234567.89"),
        (-0.001, "0"), (9.9999, "10"), (Double.nan, "0"), (Double.infinity, "0"),
    ])
    func writesShortNumbers(value: Double, text: String) {
        #expect(SVG.number(value) == text)
    }

    @Test func writesTextElementsWithEscapedContent() {
        #expect(SVG.text("a<b", x: 1.5, y: 2, anchor: "end", className: "x\"y")
            == #"<text x="1.5" y="2" text-anchor="end" class="x&quot;y">a&lt;b</text>"#)
        #expect(SVG.points([(x: 0, y: 1), (x: 2.345, y: -3)]) == "0,1 2.35,-3")
    }
}

@Suite struct ScaleSpecification {
    @Test func mapsTheDomainOntoTheRangeEvenBackwards() {
        let x = LinearScale(domain: (0, 100), range: (50, 250))
        #expect(x(0) == 50)
        #expect(x(100) == 250)
        #expect(x(25) == 100)
        #expect(x(200) == 450, "no clamping")
        let y = LinearScale(domain: (60, 80), range: (200, 0))
        #expect(y(60) == 200)
        #expect(y(80) == 0)
        #expect(y(70) == 100)
    }

    @Test func aDomainOfOneValueMapsToTheMiddle() {
        #expect(LinearScale(domain: (5, 5), range: (0, 10))(5) == 5)
        let nice = LinearScale(domain: (5, 5), range: (0, 10)).nice()
        #expect(nice.domain.lower == 4 && nice.domain.upper == 6)
    }

    @Test func ticksAreRoundValuesAndNiceWidensToThem() {
        let scale = LinearScale(domain: (67.3, 221.8), range: (0, 1))
        #expect(LinearScale.tickStep(67.3, 221.8, count: 4) == 50)
        #expect(scale.ticks(count: 4) == [100, 150, 200])
        let nice = scale.nice(count: 4)
        #expect(nice.domain.lower == 50 && nice.domain.upper == 250)
        #expect(nice.ticks(count: 4) == [50, 100, 150, 200, 250])
        #expect(LinearScale.tickStep(0, 1, count: 5) == 0.2)
        #expect(LinearScale.tickStep(3, 3, count: 5) == 0)
    }

    @Test func aDayHasTicksEveryTwoHoursLabelledSinceItsMidnight() {
        let start = 1_451_606_400.0
        let ticks = TimeTicks(from: start, to: start + 86_400)
        #expect(ticks.step == 7_200)
        #expect(ticks.times.count == 13)
        #expect(ticks.times.first == start)
        #expect(ticks.times.map { TimeTicks.label($0, start: start) }.prefix(3) == ["00:00", "02:00", "04:00"])
        #expect(TimeTicks.label(start + 86_400, start: start) == "24:00")
        #expect(TimeTicks(from: start, to: start + 3_600).step == 300)
    }
}
