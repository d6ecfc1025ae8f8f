namespace RegistryKit.Heartbeat;

/// <summary>Flink's heartbeat defaults (<c>heartbeat.interval</c>, <c>heartbeat.timeout</c>, <c>heartbeat.rpc-failure-threshold</c>), pinned by a test.</summary>
internal static class HeartbeatDefaults
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(50);

    public const int FailedRpcThreshold = 2;

    /// <summary>The threshold value that turns the unreachable check off.</summary>
    public const int Disabled = -1;
}
