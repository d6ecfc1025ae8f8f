namespace RegistryKit.Internal;

/// <summary>
/// Runs a host's callback (a listener) so that a component can tell when it is being called from inside one of its
/// own callbacks: its dispose must not wait for the callback that is calling it. A callback's exception is returned,
/// never thrown: a host's bug must not stop the component.
/// </summary>
internal static class CallbackScope
{
    private static readonly AsyncLocal<object?> s_owner = new();

    /// <summary>Whether the current flow is inside a callback that <paramref name="owner"/> made.</summary>
    public static bool IsInsideCallbackOf(object owner) => ReferenceEquals(s_owner.Value, owner);

    /// <summary>Marks the current flow as inside a callback of <paramref name="owner"/> until the result is disposed (for async callbacks).</summary>
    public static Scope Enter(object owner)
    {
        s_owner.Value = owner;
        return default;
    }

    /// <summary>Calls <paramref name="call"/> inside a callback scope of <paramref name="owner"/>.</summary>
    /// <returns>The exception the callback threw, or <see langword="null"/>.</returns>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1031:Do not catch general exception types", Justification = "The caller logs what a host's callback threw.")]
    public static Exception? Run<TListener, TState>(object owner, TListener listener, Action<TListener, TState> call, TState state)
    {
        using (Enter(owner))
        {
            try
            {
                call(listener, state);
                return null;
            }
            catch (Exception exception)
            {
                return exception;
            }
        }
    }

    /// <summary>Ends a callback scope.</summary>
    public readonly struct Scope : IDisposable
    {
        /// <inheritdoc/>
        public void Dispose() => s_owner.Value = null;
    }
}
