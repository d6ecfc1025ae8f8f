namespace RegistryKit.Heartbeat;

/// <summary>The other side of a heartbeat: how to reach a monitored target (Flink's HeartbeatTarget).</summary>
/// <typeparam name="TPayload">The payload sent to it.</typeparam>
public interface IHeartbeatTarget<in TPayload>
{
    /// <summary>Sends the target a heartbeat (the answer to its request).</summary>
    /// <param name="originId">Who sends it.</param>
    /// <param name="payload">The payload.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the heartbeat was delivered.</returns>
    ValueTask ReceiveHeartbeatAsync(string originId, TPayload payload, CancellationToken cancellationToken);

    /// <summary>Asks the target for a heartbeat; it answers through <see cref="ReceiveHeartbeatAsync"/>.</summary>
    /// <param name="requestOriginId">Who asks.</param>
    /// <param name="payload">The payload.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the request was delivered.</returns>
    /// <exception cref="RecipientUnreachableException">The target could not be reached; counts towards the failure threshold.</exception>
    ValueTask RequestHeartbeatAsync(string requestOriginId, TPayload payload, CancellationToken cancellationToken);
}
