using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using RegistryKit.Registry;

namespace RegistryKit.Hosting;

/// <summary>
/// Reports how one named registry's clients are doing: healthy when they hold a session with fresh heartbeats and
/// nothing waits to be retried; degraded while retries are pending, heartbeats are late, there is no session yet, or a
/// hosted registration is still being made; the failure status once the registry has been unreachable for
/// <see cref="RegistryHealthCheckOptions.UnhealthyAfter"/> or a hosted registration failed for good.
/// </summary>
/// <remarks>The result's data carries the counts behind the verdict, under stable keys (see <c>docs/observability.md</c>).</remarks>
internal sealed class RegistryHealthCheck(IServiceProvider services, string registryName, RegistryHealthCheckOptions options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        RegistryFactory factory = services.GetRequiredKeyedService<RegistryFactory>(registryName);
        RegistryOptions registryOptions = services.GetRequiredService<IOptionsMonitor<RegistryOptions>>().Get(registryName);
        TimeSpan? configuredLateAfter = options.HeartbeatLateAfter;
        // Without a heartbeat interval yet: two of the default intervals, a third of the TTL each.
        TimeSpan lateAfter = configuredLateAfter ?? registryOptions.SessionTtl * RegistryHealthCheckDefaults.LateAfterHeartbeatIntervals / 3;

        int registries = 0, available = 0;
        int pendingRegister = 0, pendingUnregister = 0, pendingSubscribe = 0, pendingUnsubscribe = 0;
        long recoveries = 0, malformed = 0;
        TimeSpan worstSinceBeat = TimeSpan.Zero, worstUnreachable = TimeSpan.Zero;
        bool late = false;
        foreach (IRegistry registry in factory.Registries)
        {
            RegistryStatus status = registry.GetStatus();
            registries++;
            available += status.IsAvailable ? 1 : 0;
            pendingRegister += status.PendingRetries.Register;
            pendingUnregister += status.PendingRetries.Unregister;
            pendingSubscribe += status.PendingRetries.Subscribe;
            pendingUnsubscribe += status.PendingRetries.Unsubscribe;
            recoveries += status.SessionRecoveries;
            malformed += status.MalformedEntries;
            if (status.TimeSinceLastHeartbeat is { } sinceBeat)
            {
                // Late: two of this session's heartbeat intervals without an acknowledgement, unless configured.
                TimeSpan threshold = configuredLateAfter ?? (status.HeartbeatInterval is { } interval ? interval * RegistryHealthCheckDefaults.LateAfterHeartbeatIntervals : lateAfter);
                worstSinceBeat = sinceBeat > worstSinceBeat ? sinceBeat : worstSinceBeat;
                if (status.IsAvailable && sinceBeat > threshold)
                {
                    late = true;
                    lateAfter = threshold;
                }
            }

            if (status.UnreachableFor is { } unreachable && unreachable > worstUnreachable)
            {
                worstUnreachable = unreachable;
            }
        }

        List<ServiceRegistrationStatus> registrations =
            services.GetService<ServiceRegistrations>()?.GetStatus().Where(r => r.RegistryName == registryName).ToList() ?? [];
        int registered = registrations.Count(r => r.State == RegistrationState.Registered);
        int pendingRegistrations = registrations.Count(r => r.State == RegistrationState.Pending);
        int offline = registrations.Count(r => r.State == RegistrationState.Offline);
        int failed = registrations.Count(r => r.State == RegistrationState.Failed);
        int pendingRetries = pendingRegister + pendingUnregister + pendingSubscribe + pendingUnsubscribe;

        var data = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["registries"] = registries,
            ["registries_available"] = available,
            ["retries_pending"] = pendingRetries,
            ["retries_pending_register"] = pendingRegister,
            ["retries_pending_unregister"] = pendingUnregister,
            ["retries_pending_subscribe"] = pendingSubscribe,
            ["retries_pending_unsubscribe"] = pendingUnsubscribe,
            ["seconds_since_heartbeat"] = worstSinceBeat.TotalSeconds,
            ["seconds_unreachable"] = worstUnreachable.TotalSeconds,
            ["session_recoveries"] = recoveries,
            ["malformed_entries"] = malformed,
            ["registrations"] = registrations.Count,
            ["registrations_registered"] = registered,
            ["registrations_pending"] = pendingRegistrations,
            ["registrations_offline"] = offline,
            ["registrations_failed"] = failed,
        };

        HealthCheckResult result;
        if (failed > 0)
        {
            string names = string.Join(", ", registrations.Where(r => r.State == RegistrationState.Failed).Select(r => $"'{r.Service}'"));
            result = new HealthCheckResult(context.Registration.FailureStatus, $"Registering {names} failed for good; see the logs.", data: data);
        }
        else if (worstUnreachable > TimeSpan.Zero && worstUnreachable >= options.UnhealthyAfter)
        {
            result = new HealthCheckResult(
                context.Registration.FailureStatus,
                $"The registry has been unreachable for {worstUnreachable.TotalSeconds:0.#} s (threshold {options.UnhealthyAfter.TotalSeconds:0.#} s); registrations are retried in the background.",
                data: data);
        }
        else if (available < registries || pendingRetries > 0 || late || pendingRegistrations > 0)
        {
            List<string> reasons = [];
            if (available < registries)
            {
                reasons.Add($"{registries - available} of {registries} registry client(s) without a session");
            }

            if (pendingRetries > 0)
            {
                reasons.Add($"{pendingRetries} operation(s) waiting to be retried");
            }

            if (late)
            {
                reasons.Add($"heartbeats late ({worstSinceBeat.TotalSeconds:0.#} s since the last, expected within {lateAfter.TotalSeconds:0.#} s)");
            }

            if (pendingRegistrations > 0)
            {
                reasons.Add($"{pendingRegistrations} registration(s) not made yet");
            }

            result = HealthCheckResult.Degraded(string.Join("; ", reasons) + ".", data: data);
        }
        else
        {
            string description = offline > 0
                ? $"Offline on purpose: {offline} registration(s) taken out of the registry."
                : $"{registered} registration(s) in place; {registries} registry client(s) with a live session.";
            result = HealthCheckResult.Healthy(description, data);
        }

        return Task.FromResult(result);
    }
}
