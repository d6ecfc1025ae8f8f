namespace RegistryKit.Heartbeat;

/// <summary>What a <see cref="HeartbeatManager{TIn, TOut}"/> tells its owner, and asks of it (Flink's HeartbeatListener).</summary>
/// <typeparam name="TIn">The payload received with heartbeats.</typeparam>
/// <typeparam name="TOut">The payload sent with heartbeats.</typeparam>
public interface IHeartbeatListener<in TIn, out TOut>
{
    /// <summary>A monitored target sent no heartbeat within the timeout. Reported once per monitoring.</summary>
    /// <param name="targetId">The target.</param>
    void OnHeartbeatTimeout(string targetId);

    /// <summary>Heartbeat requests to a monitored target failed as unreachable too many times in a row. Reported once.</summary>
    /// <param name="targetId">The target.</param>
    void OnTargetUnreachable(string targetId);

    /// <summary>A heartbeat arrived with a payload (also from a sender that is not monitored).</summary>
    /// <param name="targetId">Who sent it.</param>
    /// <param name="payload">What it carried, such as a health report.</param>
    void ReportPayload(string targetId, TIn payload);

    /// <summary>Returns the payload to send to <paramref name="targetId"/> with the next heartbeat.</summary>
    /// <param name="targetId">The target.</param>
    /// <returns>The payload.</returns>
    TOut RetrievePayload(string targetId);
}
