/// The coordination database cannot be used by this server as it is.
struct CoordinationSchemaError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
