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
    /// <remarks>
    /// The mark flows into work the callback starts (a task it runs), so such work that later disposes the owner is
    /// taken for the callback and does not wait for the owner's calls in flight: a callback's work should dispose the
    /// owner from the callback itself.
    /// </remarks>
    public static Scope Enter(object owner)
    {
        object? previous = s_owner.Value;
        s_owner.Value = owner;
        return new Scope(previous);
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

    /// <summary>Ends a callback scope, restoring the one it was entered from.</summary>
    public readonly struct Scope(object? previous) : IDisposable
    {
        /// <inheritdoc/>
        public void Dispose() => s_owner.Value = previous;
    }
}
