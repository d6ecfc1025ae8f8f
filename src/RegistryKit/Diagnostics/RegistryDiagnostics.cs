namespace RegistryKit.Diagnostics;

/// <summary>
/// The names to listen to: RegistryKit's metrics come from a <see cref="System.Diagnostics.Metrics.Meter"/> and its
/// spans from an <see cref="System.Diagnostics.ActivitySource"/>, both called <see cref="Name"/>.
/// </summary>
/// <remarks>
/// With OpenTelemetry: <c>.WithMetrics(m => m.AddMeter(RegistryDiagnostics.Name))</c> and
/// <c>.WithTracing(t => t.AddSource(RegistryDiagnostics.Name))</c>. The instruments are listed in
/// <c>docs/observability.md</c>.
/// </remarks>
public static class RegistryDiagnostics
{
    /// <summary>The name of the meter and of the activity source: <c>RegistryKit</c>.</summary>
    public const string Name = "RegistryKit";

    /// <summary>Gets the version the meter and the activity source report: the library's assembly version (major.minor.patch).</summary>
    public static string Version { get; } =
        typeof(RegistryDiagnostics).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
}
