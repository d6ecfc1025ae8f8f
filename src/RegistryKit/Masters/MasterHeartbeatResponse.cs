namespace RegistryKit.Masters;

/// <summary>What the active master answered to a heartbeat.</summary>
public enum MasterHeartbeatResponse
{
    /// <summary>The master knows the worker.</summary>
    Ok,

    /// <summary>The master does not know the worker (it restarted, or dropped it): register again (Spark's ReconnectWorker).</summary>
    Reconnect,
}
