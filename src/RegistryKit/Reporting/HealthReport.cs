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
    /// <summary>
    /// Creates a report. A <see cref="HealthReporter"/> makes them; a receiver uses this to rebuild one it got over the
    /// wire (the parameter names match the properties, so System.Text.Json can call it).
    /// </summary>
    /// <param name="incarnation">The reporter's incarnation.</param>
    /// <param name="sequence">The report's number within it; 1 or more.</param>
    /// <param name="uptime">How long the reporter had existed; not negative.</param>
    /// <param name="metrics">The process's resources.</param>
    /// <param name="customMetrics">The host's own metrics; <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sequence"/> is below 1, or <paramref name="uptime"/> is negative.</exception>
    public HealthReport(Guid incarnation, long sequence, TimeSpan uptime, SystemMetrics metrics, IReadOnlyDictionary<string, double>? customMetrics)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sequence, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(uptime, TimeSpan.Zero);
        Incarnation = incarnation;
        Sequence = sequence;
        Uptime = uptime;
        Metrics = metrics;
        CustomMetrics = customMetrics ?? System.Collections.ObjectModel.ReadOnlyDictionary<string, double>.Empty;
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
