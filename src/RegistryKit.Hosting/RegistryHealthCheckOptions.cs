namespace RegistryKit.Hosting;

/// <summary>When the RegistryKit health check turns degraded or unhealthy.</summary>
public sealed class RegistryHealthCheckOptions
{
    /// <summary>Gets or sets how long the registry may be unreachable before the check reports its failure status.</summary>
    /// <value>The default is 30 seconds. Not negative.</value>
    public TimeSpan UnhealthyAfter { get; set; } = RegistryHealthCheckDefaults.UnhealthyAfter;

    /// <summary>Gets or sets after how long without an acknowledged heartbeat heartbeats count as late (degraded).</summary>
    /// <value>
    /// The default is <see langword="null"/>: two of the session's heartbeat intervals (<c>HeartbeatInterval</c>, or
    /// what the transport asks for: a third of the TTL for etcd and the in-memory registry), or two thirds of the
    /// session TTL while a registry has no heartbeat interval yet. Positive when set.
    /// </value>
    public TimeSpan? HeartbeatLateAfter { get; set; }

    internal void Validate()
    {
        if (UnhealthyAfter < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(UnhealthyAfter), UnhealthyAfter, $"RegistryHealthCheckOptions.UnhealthyAfter is {UnhealthyAfter}; it must not be negative.");
        }

        if (HeartbeatLateAfter is { } late && late <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(HeartbeatLateAfter), late, $"RegistryHealthCheckOptions.HeartbeatLateAfter is {late}; it must be positive, or null for two of the session's heartbeat intervals.");
        }
    }
}
