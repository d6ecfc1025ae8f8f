namespace RegistryKit.Reporting;

/// <summary>
/// One health report of a worker: its resources, its score and the host's own metrics, ordered by a sequence number
/// rather than stamped with a time.
/// </summary>
/// <remarks>
/// Nothing in a report comes from the wall clock. A receiver orders reports by <see cref="Sequence"/> within one
/// <see cref="Incarnation"/> and judges liveness by when reports reach it on its own clock, so two machines' clocks
/// are never compared (PowerJob #218, #961: workers were dropped as dead because their clock ran behind the server's).
/// </remarks>
public sealed class HealthReport
{
    internal HealthReport(Guid incarnation, long sequence, TimeSpan uptime, SystemMetrics metrics, IReadOnlyDictionary<string, double> customMetrics)
    {
        Incarnation = incarnation;
        Sequence = sequence;
        Uptime = uptime;
        Metrics = metrics;
        CustomMetrics = customMetrics;
    }

    /// <summary>
    /// Gets the identity of the reporter that produced the report, random for each <see cref="HealthReporter"/>: a
    /// new incarnation is a restart, while a lower <see cref="Sequence"/> within one incarnation is a stale report.
    /// </summary>
    public Guid Incarnation { get; }

    /// <summary>Gets the report's number within its incarnation: 1 for the first, then one more for each report produced.</summary>
    /// <remarks>A gap at the receiver means reports produced but not delivered.</remarks>
    public long Sequence { get; }

    /// <summary>Gets how long the reporter had existed when the report was produced, on the monotonic clock.</summary>
    public TimeSpan Uptime { get; }

    /// <summary>Gets the process's resources.</summary>
    public SystemMetrics Metrics { get; }

    /// <summary>Gets the score servers rank workers by (<see cref="SystemMetrics.ComputeScore"/>).</summary>
    public int Score => Metrics.Score;

    /// <summary>Gets the host's own metrics, by name; only named, finite values get this far.</summary>
    public IReadOnlyDictionary<string, double> CustomMetrics { get; }
}
