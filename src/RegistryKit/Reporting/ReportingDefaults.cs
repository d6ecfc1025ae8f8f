namespace RegistryKit.Reporting;

/// <summary>The defaults of <see cref="HealthReporterOptions"/>: PowerJob worker's numbers, pinned by a test.</summary>
internal static class ReportingDefaults
{
    /// <summary>PowerJob sends a health report every 10 seconds (10–15 s in practice, as its loop sleeps after the work).</summary>
    public static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(10);
}
