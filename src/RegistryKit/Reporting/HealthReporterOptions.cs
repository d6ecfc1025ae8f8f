using RegistryKit.Internal;

namespace RegistryKit.Reporting;

/// <summary>Settings of a <see cref="HealthReporter"/>; the default is PowerJob's.</summary>
public sealed class HealthReporterOptions
{
    /// <summary>Gets or sets how often a report is produced (at a fixed rate, from <see cref="HealthReporter.Start"/>).</summary>
    /// <value>The default is 10 seconds. Positive.</value>
    public TimeSpan ReportInterval { get; set; } = ReportingDefaults.ReportInterval;

    /// <summary>Throws when a setting is out of range, naming it and the range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        OptionsGuard.Require(nameof(HealthReporterOptions), ReportInterval > TimeSpan.Zero, nameof(ReportInterval), ReportInterval, "must be positive");
    }
}
