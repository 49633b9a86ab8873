using System.ComponentModel.DataAnnotations;
using System.Text;

namespace FlagService.Infrastructure.Auth;

public sealed class JwtOptions : IValidatableObject
{
    public const string SectionName = "Jwt";

    [Required(ErrorMessage = "Jwt:Secret (or JWT_SECRET) must be set to at least 32 bytes.")]
    public string Secret { get; set; } = "";

    [Required]
    public string Issuer { get; set; } = "flagservice";

    [Required]
    public string Audience { get; set; } = "flagservice";

    [Range(1, 24 * 30)]
    public int LifetimeHours { get; set; } = 24;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Encoding.UTF8.GetByteCount(Secret) < 32)
        {
            yield return new ValidationResult(
                "Jwt:Secret (or JWT_SECRET) must be at least 32 bytes.", [nameof(Secret)]);
        }
    }
}
