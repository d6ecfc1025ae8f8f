namespace RegistryKit.Registry;

/// <summary>A snapshot of how a registry client is doing, for health checks and dashboards.</summary>
/// <param name="IsAvailable">Whether it holds a live session with the registry.</param>
/// <param name="PendingRetries">Failed operations waiting to be retried, by kind.</param>
/// <param name="MalformedEntries">Registry entries skipped because they were not valid URLs.</param>
/// <param name="StaleSnapshots">Notifications ignored because a newer revision had been seen.</param>
/// <param name="NotificationsDelivered">Lists handed to listeners.</param>
/// <param name="SessionRecoveries">Times a lost session was replaced and everything registered again.</param>
public sealed record RegistryStatus(
    bool IsAvailable,
    PendingRetries PendingRetries,
    long MalformedEntries,
    long StaleSnapshots,
    long NotificationsDelivered,
    long SessionRecoveries)
{
    /// <summary>
    /// Gets the time since the registry last confirmed the session (an acknowledged heartbeat, or the session's
    /// opening), or <see langword="null"/> before the first session.
    /// </summary>
    public TimeSpan? TimeSinceLastHeartbeat { get; init; }

    /// <summary>Gets how often the current session is kept alive, or <see langword="null"/> without a session.</summary>
    public TimeSpan? HeartbeatInterval { get; init; }

    /// <summary>
    /// Gets how long the registry has been unreachable (a session could not be opened, or heartbeats failed
    /// <c>HeartbeatFailureThreshold</c> times in a row, and no heartbeat has been acknowledged since), or
    /// <see langword="null"/> while it is reachable.
    /// </summary>
    public TimeSpan? UnreachableFor { get; init; }

    /// <summary>Gets the heartbeat slots skipped because the previous keep-alive was still in flight.</summary>
    public long SkippedHeartbeats { get; init; }
}
