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
    long SessionRecoveries);
