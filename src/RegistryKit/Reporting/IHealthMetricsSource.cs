namespace RegistryKit.Reporting;

/// <summary>Adds the host's own metrics (queue depths, running tasks) to every <see cref="HealthReport"/>.</summary>
public interface IHealthMetricsSource
{
    /// <summary>
    /// Adds metrics by name. Called once per report, one source at a time; keep it quick. Values that are not finite
    /// and empty names are skipped and counted, and so is a name an earlier source already gave. A source that throws
    /// is logged and counted, and the report goes out without its metrics.
    /// </summary>
    /// <param name="metrics">Where to add them (a fresh dictionary for each source and report).</param>
    void Collect(IDictionary<string, double> metrics);
}
