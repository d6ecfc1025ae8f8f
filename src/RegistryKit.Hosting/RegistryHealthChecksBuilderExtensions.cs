using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace RegistryKit.Hosting;

/// <summary>Adds the RegistryKit health check: <c>services.AddHealthChecks().AddRegistryKit()</c>.</summary>
public static class RegistryHealthChecksBuilderExtensions
{
    /// <summary>Adds a check of the registry called <paramref name="registryName"/>: its clients, retries, heartbeats and hosted registrations.</summary>
    /// <param name="builder">The health checks.</param>
    /// <param name="registryName">The registry to check; empty for the default registry.</param>
    /// <param name="configure">Sets the thresholds.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">What the check reports when the registry has been unreachable too long; <see langword="null"/> for <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter checks by, such as <c>ready</c>.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A threshold is out of range.</exception>
    public static IHealthChecksBuilder AddRegistryKit(
        this IHealthChecksBuilder builder,
        string registryName = "",
        Action<RegistryHealthCheckOptions>? configure = null,
        string name = "registrykit",
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(registryName);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var options = new RegistryHealthCheckOptions();
        configure?.Invoke(options);
        options.Validate();
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => new RegistryHealthCheck(sp, registryName, options),
            failureStatus,
            tags));
    }
}
