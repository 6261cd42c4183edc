import PetrelCore
import PetrelStore

/// The overview chart: stacked bars of messages by status, drawn as inline SVG (no script, no library).
enum Chart {
    static let colors: [(MessageStatus, String)] = [
        (.delivered, "#1f883d"), (.sent, "#54aeff"), (.submitting, "#bf8700"), (.queued, "#d4a72c"),
        (.failed, "#cf222e"), (.expired, "#8c959f"),
    ]

    static func statusBars(_ series: [StatusBucket], since: Int64, bucketMs: Int64, buckets: Int) -> HTML {
        let width = 720
        let height = 160
        let left = 40
        let barWidth = Double(width - left) / Double(buckets)
        var byIndex: [Int: [MessageStatus: Int]] = [:]
        for b in series { byIndex[Int((b.startMs - since) / bucketMs)] = b.counts }
        let peak = max(byIndex.values.map { $0.values.reduce(0, +) }.max() ?? 0, 1)
        var svg: HTML = """
            <svg viewBox="0 0 \(width) \(height + 20)" width="100%" role="img" \
            aria-label="messages by status per minute">\
            <line x1="\(left)" y1="\(height)" x2="\(width)" y2="\(height)" stroke="#ccc"/>\
            <text x="0" y="10">\(peak)</text><text x="0" y="\(height)">0</text>
            """
        for i in 0..<buckets {
            guard let counts = byIndex[i] else { continue }
            var y = Double(height)
            for (status, color) in colors {
                let n = counts[status] ?? 0
                guard n > 0 else { continue }
                let h = Double(height - 5) * Double(n) / Double(peak)
                y -= h
                let x = Double(left) + Double(i) * barWidth + 1
                svg += """
                    <rect x="\(x)" y="\(y)" width="\(max(barWidth - 2, 1))" height="\(h)" fill="\(color)">\
                    <title>\(n) \(status.name)</title></rect>
                    """
            }
        }
        svg += """
            <text x="\(left)" y="\(height + 15)">-60 min</text>\
            <text x="\(width - 30)" y="\(height + 15)">now</text></svg>
            """
        let legend = colors.map {
            let swatch: HTML = """
                <svg width="10" height="10"><rect width="10" height="10" fill="\($0.1)"/></svg>
                """
            return "<span>\(swatch) \($0.0.name)</span>" as HTML
        }
        return svg + "<div class=\"legend\">\(legend.joined())</div>"
    }

    /// The statistics colours: final outcomes, and what still waits.
    static let outcomeColors: [(String, String, @Sendable (StatsCounts) -> Int)] = [
        ("delivered", "#1f883d", { $0.delivered }), ("failed", "#cf222e", { $0.failed }),
        ("expired", "#8c959f", { $0.expired }), ("waiting", "#d4a72c", { $0.waiting }),
    ]

    /// Stacked bars of `bars` (label, counts) by outcome, with the delivery rate of each bar in its tooltip and
    /// every other label under the axis when they fit.
    static func statsBars(_ bars: [(String, StatsCounts)], label: String) -> HTML {
        let width = 720
        let height = 160
        let left = 44
        guard !bars.isEmpty else { return "" }
        let barWidth = Double(width - left) / Double(bars.count)
        let peak = max(bars.map { $0.1.submitted }.max() ?? 0, 1)
        var svg: HTML = """
            <svg viewBox="0 0 \(width) \(height + 22)" width="100%" role="img" aria-label="\(label)" \
            class="chart" fill="currentColor" font-size="11">\
            <line x1="\(left)" y1="\(height)" x2="\(width)" y2="\(height)" stroke="#8c959f"/>\
            <text x="0" y="10">\(peak)</text><text x="0" y="\(height)">0</text>
            """
        let every = max(1, Int((Double(bars.count) * 60 / Double(width - left)).rounded(.up)))
        for (i, bar) in bars.enumerated() {
            let x = Double(left) + Double(i) * barWidth + 1
            var y = Double(height)
            for (name, color, count) in outcomeColors {
                let n = count(bar.1)
                guard n > 0 else { continue }
                let h = Double(height - 5) * Double(n) / Double(peak)
                y -= h
                svg += """
                    <rect x="\(x)" y="\(y)" width="\(max(barWidth - 2, 1))" height="\(h)" fill="\(color)">\
                    <title>\(bar.0): \(n) \(name) of \(bar.1.submitted)</title></rect>
                    """
            }
            if i % every == 0 {
                svg += "<text x=\"\(x)\" y=\"\(height + 15)\">\(bar.0)</text>"
            }
        }
        svg += "</svg>"
        let legend = outcomeColors.map {
            let swatch: HTML = """
                <svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" fill="\($0.1)"/></svg>
                """
            return "<span>\(swatch) \($0.0)</span>" as HTML
        }
        return svg + "<div class=\"legend\">\(legend.joined())</div>"
    }
}
