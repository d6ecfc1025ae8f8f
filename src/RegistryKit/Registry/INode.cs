namespace RegistryKit.Registry;

/// <summary>Something addressed by a <see cref="ServiceUrl"/> that can be available and can be destroyed (Dubbo's Node).</summary>
public interface INode : IAsyncDisposable
{
    /// <summary>Gets the node's address.</summary>
    ServiceUrl Url { get; }

    /// <summary>Gets whether the node can serve calls now.</summary>
    bool IsAvailable { get; }
}
