using FlagService.Infrastructure.Http;

namespace FlagService.Features.Projects;

public static class ProjectInput
{
    public const int NameMax = 255;
    public const int DescriptionMax = 2000;

    public static (string? Name, string? Description) Validate(FieldErrors errors, string? name, string? description, bool nameRequired) =>
        (errors.Text("name", name, 1, NameMax, nameRequired),
         errors.Text("description", description, 0, DescriptionMax, required: false));
}
