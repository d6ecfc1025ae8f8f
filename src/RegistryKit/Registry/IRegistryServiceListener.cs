namespace RegistryKit.Registry;

/// <summary>
/// Hooks that run after each registry operation, whether it succeeded or failed (Dubbo's RegistryServiceListener).
/// Register and unregister hooks are not called for a consumer's own URL (protocol <c>consumer</c> or port 0).
/// </summary>
/// <remarks>
/// Every hook runs even when an earlier one throws. When the operation succeeded and hooks threw, the caller gets an
/// <see cref="AggregateException"/> of the hooks' exceptions; when the operation itself failed, the caller gets the
/// operation's exception and the hooks' exceptions are logged.
/// </remarks>
public interface IRegistryServiceListener
{
    /// <summary>Runs after <see cref="IRegistry.RegisterAsync"/>.</summary>
    /// <param name="url">The URL.</param>
    /// <param name="registry">The registry.</param>
    void OnRegister(ServiceUrl url, IRegistry registry);

    /// <summary>Runs after <see cref="IRegistry.UnregisterAsync"/>.</summary>
    /// <param name="url">The URL.</param>
    /// <param name="registry">The registry.</param>
    void OnUnregister(ServiceUrl url, IRegistry registry);

    /// <summary>Runs after <see cref="IRegistry.SubscribeAsync"/>.</summary>
    /// <param name="url">The subscription.</param>
    /// <param name="registry">The registry.</param>
    void OnSubscribe(ServiceUrl url, IRegistry registry);

    /// <summary>Runs after <see cref="IRegistry.UnsubscribeAsync"/>.</summary>
    /// <param name="url">The subscription.</param>
    /// <param name="registry">The registry.</param>
    void OnUnsubscribe(ServiceUrl url, IRegistry registry);
}
