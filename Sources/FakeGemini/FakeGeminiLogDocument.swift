import Foundation

/// The JSON of `GET /_fake/log`, and the parser of `POST /_fake/faults` bodies.
struct FakeGeminiLogDocument: Codable {
    var requests: [FakeGeminiRequestLogEntry]

    /// Accepts `{"faults":[…]}` or a bare array; each item a fault name or `{"fault":NAME,"key":KEY?}`.
    static func parseFaults(_ body: Data) -> [FakeGeminiScriptedFault]? {
        guard let object = try? JSONSerialization.jsonObject(with: body) else { return nil }
        let items: [Any]
        if let list = object as? [Any] {
            items = list
        } else if let dictionary = object as? [String: Any], let list = dictionary["faults"] as? [Any] {
            items = list
        } else {
            return nil
        }
        var faults: [FakeGeminiScriptedFault] = []
        for item in items {
            if let name = item as? String, let fault = FakeGeminiFault(rawValue: name) {
                faults.append(FakeGeminiScriptedFault(fault))
            } else if let dictionary = item as? [String: Any], let name = dictionary["fault"] as? String,
                let fault = FakeGeminiFault(rawValue: name)
            {
                faults.append(FakeGeminiScriptedFault(fault, key: dictionary["key"] as? String))
            } else {
                return nil
            }
        }
        return faults
    }
}
