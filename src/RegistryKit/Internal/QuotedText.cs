namespace RegistryKit.Internal;

/// <summary>Untrusted text as log lines show it: bounded and escaped (<see cref="UntrustedText.Quote"/>) only when formatted.</summary>
internal readonly struct QuotedText(string? text)
{
    /// <inheritdoc/>
    public override string ToString() => UntrustedText.Quote(text ?? string.Empty);
}
