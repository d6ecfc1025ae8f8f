using RegistryKit.Reporting;

namespace RegistryKit.Masters;

/// <summary>
/// How a worker talks to its masters: the small adapter a host writes for its own master protocol. RegistryKit does
/// the rest (parallel registration, following the active master, heartbeats, the retry schedule).
/// </summary>
public interface IMasterClient
{
    /// <summary>Registers the worker with the master at <paramref name="masterAddress"/>.</summary>
    /// <param name="masterAddress">The master.</param>
    /// <param name="workerId">The worker's identity.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The master's answer. Throw on a failed call; it is retried on the schedule.</returns>
    ValueTask<MasterRegistrationResponse> RegisterAsync(string masterAddress, string workerId, CancellationToken cancellationToken);

    /// <summary>Sends a heartbeat to the active master.</summary>
    /// <param name="masterAddress">The active master.</param>
    /// <param name="workerId">The worker's identity.</param>
    /// <param name="report">
    /// The worker's newest health report when it is newer than the last one this master answered, or
    /// <see langword="null"/> (no <see cref="MultiMasterRegistration.HealthReporter"/>, or nothing new to report).
    /// </param>
    /// <param name="cancellationToken">Cancels the call; it is cancelled when no answer came within the heartbeat interval.</param>
    /// <returns>The master's answer. Throw when the master cannot be reached; consecutive failures make it lost.</returns>
    ValueTask<MasterHeartbeatResponse> HeartbeatAsync(string masterAddress, string workerId, HealthReport? report, CancellationToken cancellationToken);
}
