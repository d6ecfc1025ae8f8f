namespace RegistryKit.Samples.CustomTransport.Worker;

/// <summary>How the story runs.</summary>
/// <param name="Masters">The masters to use; empty to start an active and a standby master in this process.</param>
/// <param name="PhaseLimit">How long each phase may take before the story fails.</param>
internal sealed record StoryOptions(IReadOnlyList<string> Masters, TimeSpan PhaseLimit)
{
    /// <summary>Gets whether the story starts its own masters (and can restart one).</summary>
    public bool InProcess => Masters.Count == 0;
}
