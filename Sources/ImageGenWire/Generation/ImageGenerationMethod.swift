/// The full names of the `imagegen.v1.ImageGeneration` methods, shared by the server and clients.
public enum ImageGenerationMethod: String, Sendable, CaseIterable {
    /// `StartGenerationRequest` → stream of `ProgressEvent`.
    case startGeneration = "imagegen.v1.ImageGeneration/StartGeneration"
    /// `WatchJobRequest` → stream of `ProgressEvent`.
    case watchJob = "imagegen.v1.ImageGeneration/WatchJob"
    /// `GetStatusRequest` → `JobStatus`.
    case getStatus = "imagegen.v1.ImageGeneration/GetStatus"
    /// `JobRequest` → `JobStatus`.
    case cancelGeneration = "imagegen.v1.ImageGeneration/CancelGeneration"
    /// `JobRequest` → `JobStatus`.
    case pauseGeneration = "imagegen.v1.ImageGeneration/PauseGeneration"
    /// `JobRequest` → `JobStatus`.
    case resumeGeneration = "imagegen.v1.ImageGeneration/ResumeGeneration"
    /// `ListJobsRequest` → `ListJobsResponse`.
    case listJobs = "imagegen.v1.ImageGeneration/ListJobs"
    /// `ListServersRequest` → `ListServersResponse`.
    case listServers = "imagegen.v1.ImageGeneration/ListServers"

    /// The service's full name.
    public static let serviceName = "imagegen.v1.ImageGeneration"
}
