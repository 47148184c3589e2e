/// A Swift enum of the protocol, backed by the protobuf enum's number. protobuf-c imports each C
/// enum as a struct over `UInt32` that holds any number, so unknown values are rejected here.
protocol ProtobufCEnum: RawRepresentable where RawValue == Int32 {}

extension ProtobufCEnum {
    /// The value as the C enum `C` (an imported C enum accepts every raw value).
    func cValue<C: RawRepresentable>(_ type: C.Type = C.self) -> C where C.RawValue == UInt32 {
        guard let value = C(rawValue: UInt32(bitPattern: rawValue)) else {
            preconditionFailure("an imported C enum accepts every raw value")
        }
        return value
    }

    /// The C enum `value` as Swift, or `.invalidValue` naming `field` when it is not in the schema.
    init<C: RawRepresentable>(c value: C, _ field: String) throws where C.RawValue == UInt32 {
        let raw = Int32(bitPattern: value.rawValue)
        guard let known = Self(rawValue: raw) else {
            throw WireError(.invalidValue, "\(field): unknown value \(raw)")
        }
        self = known
    }
}
