/// HTTP-date (RFC 9110 §5.6.7): reads all three formats a recipient must accept, writes IMF-fixdate.
/// Pure integer calendar arithmetic (proleptic Gregorian, UTC), so EdgeCore needs no Foundation.
public enum HTTPDate {
    /// Longest value worth reading: an IMF-fixdate is 29 characters, an rfc850-date with a long weekday 33.
    public static let maxLength = 64

    /// Seconds since 1970 for an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), rfc850-date
    /// (`Sunday, 06-Nov-94 08:49:37 GMT`) or asctime-date (`Sun Nov  6 08:49:37 1994`), exactly as RFC 9110 §5.6.7
    /// writes them (case-sensitive names, fixed digits and spacing; spaces around the value are ignored); nil for
    /// anything else. `now` resolves rfc850's two-digit years: one more than 50 years ahead of `now` is taken from
    /// the last century.
    public static func parse(_ text: some StringProtocol, now: Double) -> Double? {
        guard text.utf8.count <= maxLength else { return nil }
        var bytes = Array(text.utf8)[...]
        while bytes.first == 0x20 || bytes.first == 0x09 { bytes.removeFirst() }
        while bytes.last == 0x20 || bytes.last == 0x09 { bytes.removeLast() }
        var s = Scanner(bytes: bytes)
        if let date = s.imfFixdate(), s.atEnd { return date }
        s.rewind()
        if let date = s.rfc850Date(now: now), s.atEnd { return date }
        s.rewind()
        if let date = s.asctimeDate(), s.atEnd { return date }
        return nil
    }

    /// Reads one HTTP-date format from the start of its bytes.
    private struct Scanner {
        let bytes: ArraySlice<UInt8>
        var i: Int

        init(bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            i = bytes.startIndex
        }

        var atEnd: Bool { i == bytes.endIndex }
        mutating func rewind() { i = bytes.startIndex }

        mutating func literal(_ l: StaticString) -> Bool {
            let n = l.utf8CodeUnitCount
            guard bytes.endIndex - i >= n else { return false }
            for k in 0..<n where bytes[i + k] != l.utf8Start[k] { return false }
            i += n
            return true
        }

        mutating func digits(_ n: Int) -> Int? {
            guard bytes.endIndex - i >= n else { return nil }
            var v = 0
            for k in 0..<n {
                let c = bytes[i + k]
                guard c >= 0x30 && c <= 0x39 else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            i += n
            return v
        }

        /// One of `names`, spelled exactly; its index.
        mutating func name(_ names: [String]) -> Int? {
            for (k, n) in names.enumerated() {
                let u = Array(n.utf8)
                if bytes.endIndex - i >= u.count, bytes[i..<i + u.count].elementsEqual(u) {
                    i += u.count
                    return k
                }
            }
            return nil
        }

        /// `hour ":" minute ":" second`, two digits each.
        mutating func time() -> (h: Int, m: Int, s: Int)? {
            guard let h = digits(2), literal(":"), let m = digits(2), literal(":"), let s = digits(2),
                  h < 24, m < 60, s <= 60 // 60: a leap second (RFC 9110 allows it)
            else { return nil }
            return (h, m, s)
        }

        /// `Sun, 06 Nov 1994 08:49:37 GMT`
        mutating func imfFixdate() -> Double? {
            guard name(weekdayTitles) != nil, literal(", "), let day = digits(2), literal(" "),
                  let month = name(monthTitles), literal(" "), let year = digits(4), literal(" "),
                  let t = time(), literal(" GMT") else { return nil }
            return HTTPDate.seconds(year: year, month: month + 1, day: day, t)
        }

        /// `Sunday, 06-Nov-94 08:49:37 GMT`
        mutating func rfc850Date(now: Double) -> Double? {
            guard name(longWeekdayTitles) != nil, literal(", "), let day = digits(2), literal("-"),
                  let month = name(monthTitles), literal("-"), let yy = digits(2), literal(" "),
                  let t = time(), literal(" GMT") else { return nil }
            // RFC 9110 §5.6.7: a two-digit year more than 50 years in the future means the most recent past one.
            let nowDays = now.isFinite ? Int((Swift.max(0, Swift.min(now, 253_402_300_799)) / 86_400).rounded(.down)) : 0
            let nowYear = HTTPDate.civil(fromDays: nowDays).year
            var year = yy + nowYear - nowYear % 100
            if year > nowYear + 50 { year -= 100 }
            return HTTPDate.seconds(year: year, month: month + 1, day: day, t)
        }

        /// `Sun Nov  6 08:49:37 1994`
        mutating func asctimeDate() -> Double? {
            guard name(weekdayTitles) != nil, literal(" "), let month = name(monthTitles), literal(" ") else { return nil }
            let day: Int
            if literal(" ") {
                guard let d = digits(1) else { return nil }
                day = d
            } else {
                guard let d = digits(2) else { return nil }
                day = d
            }
            guard literal(" "), let t = time(), literal(" "), let year = digits(4) else { return nil }
            return HTTPDate.seconds(year: year, month: month + 1, day: day, t)
        }
    }

    /// Seconds since 1970 for a calendar date and time, nil when the date does not exist or is before 1900.
    private static func seconds(year: Int, month: Int, day: Int, _ t: (h: Int, m: Int, s: Int)) -> Double? {
        guard year >= 1900, day >= 1, day <= daysIn(month: month, year: year) else { return nil }
        return Double(days(fromCivil: year, month, day) * 86_400 + t.h * 3_600 + t.m * 60 + t.s)
    }

    /// IMF-fixdate for a time (fractions dropped): `Sun, 06 Nov 1994 08:49:37 GMT`.
    public static func format(_ time: Double) -> String {
        let t = time.isFinite ? Int(Swift.max(0, Swift.min(time, 253_402_300_799)).rounded(.down)) : 0
        let days = t / 86_400
        let secs = t % 86_400
        let (y, m, d) = civil(fromDays: days)
        let weekday = (days + 4) % 7 // 1970-01-01 was a Thursday.
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(weekdayTitles[weekday]), \(two(d)) \(monthTitles[m - 1]) \(y) \(two(secs / 3_600)):\(two(secs / 60 % 60)):\(two(secs % 60)) GMT"
    }

    private static let monthTitles = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    private static let longWeekdayTitles = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    private static let weekdayTitles = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 (H. Hinnant's days_from_civil).
    static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day number (H. Hinnant's civil_from_days).
    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
