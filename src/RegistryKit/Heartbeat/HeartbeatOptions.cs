namespace RegistryKit.Heartbeat;

/// <summary>Settings of a <see cref="HeartbeatManager{TIn, TOut}"/>.</summary>
public sealed class HeartbeatOptions
{
    /// <summary>Gets or sets how often a sender requests heartbeats.</summary>
    /// <value>The default is 10 seconds (Flink's). Positive and not above <see cref="Timeout"/>.</value>
    public TimeSpan Interval { get; set; } = HeartbeatDefaults.Interval;

    /// <summary>Gets or sets how long a monitored target may stay silent before it times out.</summary>
    /// <value>The default is 50 seconds (Flink's). Positive.</value>
    public TimeSpan Timeout { get; set; } = HeartbeatDefaults.Timeout;

    /// <summary>Gets or sets after how many consecutive unreachable requests a target is reported unreachable; -1 turns it off.</summary>
    /// <value>The default is 2 (Flink's). Positive, or -1.</value>
    public int FailedRpcThreshold { get; set; } = HeartbeatDefaults.FailedRpcThreshold;

    /// <summary>Throws when a setting is out of range, naming it and the range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        if (Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Timeout), Timeout, $"HeartbeatOptions.Timeout is {Timeout}; it must be positive.");
        }

        if (Interval <= TimeSpan.Zero || Interval > Timeout)
        {
            throw new ArgumentOutOfRangeException(nameof(Interval), Interval, $"HeartbeatOptions.Interval is {Interval}; it must be positive and not above Timeout ({Timeout}).");
        }

        if (FailedRpcThreshold is 0 or < HeartbeatDefaults.Disabled)
        {
            throw new ArgumentOutOfRangeException(nameof(FailedRpcThreshold), FailedRpcThreshold, $"HeartbeatOptions.FailedRpcThreshold is {FailedRpcThreshold}; it must be positive, or -1 to turn the check off.");
        }
    }
}
