namespace RegistryKit.Transport;

/// <summary>Receives what a transport subscription sees. Implemented by the registry engine.</summary>
/// <remarks>
/// A transport calls one watcher from one thread at a time, snapshots in revision order. It never blocks on the
/// watcher: the engine queues the work and returns.
/// </remarks>
public interface ITransportWatcher
{
    /// <summary>The subscription's view changed (or this is its first view).</summary>
    /// <param name="snapshot">The full view at its revision.</param>
    void OnSnapshot(TransportSnapshot snapshot);

    /// <summary>
    /// The subscription ended without being disposed (the stream broke, the registry restarted). No further calls
    /// follow; the engine subscribes again.
    /// </summary>
    /// <param name="reason">Why it ended.</param>
    void OnLost(Exception reason);
}
