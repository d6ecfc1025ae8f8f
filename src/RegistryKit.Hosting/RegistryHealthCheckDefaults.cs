namespace RegistryKit.Hosting;

/// <summary>The defaults of <see cref="RegistryHealthCheckOptions"/>, pinned by a test.</summary>
internal static class RegistryHealthCheckDefaults
{
    /// <summary>How long the registry may be unreachable before the check reports its failure status.</summary>
    public static readonly TimeSpan UnhealthyAfter = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Without <see cref="RegistryHealthCheckOptions.HeartbeatLateAfter"/>, heartbeats are late after this many of the
    /// session's heartbeat intervals without an acknowledgement.
    /// </summary>
    public const int LateAfterHeartbeatIntervals = 2;
}
