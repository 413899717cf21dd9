/// HTTP-date (RFC 9110 §5.6.7): reads all three formats a recipient must accept, writes IMF-fixdate.
/// Pure integer calendar arithmetic (proleptic Gregorian, UTC), so EdgeCore needs no Foundation.
public enum HTTPDate {
    /// Longest value worth reading: an IMF-fixdate is 29 characters, an rfc850-date with a long weekday 33.
    public static let maxLength = 64

    /// Seconds since 1970 for an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), rfc850-date
    /// (`Sunday, 06-Nov-94 08:49:37 GMT`) or asctime-date (`Sun Nov  6 08:49:37 1994`); nil for anything else.
    /// `now` resolves rfc850's two-digit years: one more than 50 years ahead of `now` is taken from the last century.
    public static func parse(_ text: some StringProtocol, now: Double) -> Double? {
        guard text.utf8.count <= maxLength else { return nil }
        var numbers: [Int] = []
        var month: Int?
        var time: (h: Int, m: Int, s: Int)?
        var yearDigits = 0
        var sawWeekday = false
        var sawZone = false
        for token in text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," || $0 == "-" }) {
            if token.allSatisfy({ $0.isASCII && $0.isNumber }) {
                guard numbers.count < 2, token.count <= 4, let n = Int(token) else { return nil }
                if numbers.count == 1 { yearDigits = token.count }
                numbers.append(n)
            } else if token.contains(":") {
                guard time == nil, let t = parseTime(token) else { return nil }
                time = t
            } else if let m = monthNames.firstIndex(of: token.lowercased()) {
                guard month == nil else { return nil }
                month = m + 1
            } else if weekdayNames.contains(token.lowercased()) || longWeekdayNames.contains(token.lowercased()) {
                guard !sawWeekday, month == nil, numbers.isEmpty else { return nil }
                sawWeekday = true
            } else if token == "GMT" || token == "UTC" || token == "UT" {
                // Only after the time in IMF and rfc850; asctime carries no zone at all.
                guard !sawZone, time != nil else { return nil }
                sawZone = true
            } else {
                return nil
            }
        }
        guard numbers.count == 2, let month, let time else { return nil }
        let day = numbers[0]
        var year = numbers[1]
        switch yearDigits {
        case 4: break
        case 2:
            // RFC 9110 §5.6.7: a two-digit year more than 50 years in the future means the most recent past one.
            let nowDays = now.isFinite ? Int((Swift.max(0, Swift.min(now, 253_402_300_799)) / 86_400).rounded(.down)) : 0
            let nowYear = civil(fromDays: nowDays).year
            year += nowYear - nowYear % 100
            if year > nowYear + 50 { year -= 100 }
        default: return nil
        }
        guard year >= 1900, day >= 1, day <= daysIn(month: month, year: year) else { return nil }
        let days = days(fromCivil: year, month, day)
        return Double(days * 86_400 + time.h * 3_600 + time.m * 60 + time.s)
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

    private static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let monthTitles = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    private static let weekdayNames: Set<String> = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
    private static let longWeekdayNames: Set<String> = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
    private static let weekdayTitles = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]

    private static func parseTime(_ token: some StringProtocol) -> (h: Int, m: Int, s: Int)? {
        let parts = token.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let h = Int(parts[0]), let m = Int(parts[1]), let s = Int(parts[2]),
              h < 24, m < 60, s <= 60 // 60: a leap second (RFC 9110 allows it)
        else { return nil }
        return (h, m, s)
    }

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
