package io.github.standalonecinder.provisioner;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The dependency directions of the build (root pom) and between the provisioner's packages, on this module's
 * compiled main classes (tests may use the simulator; main code may not).
 */
@AnalyzeClasses(packages = "io.github.standalonecinder.provisioner",
    importOptions = ImportOption.DoNotIncludeTests.class)
class LayeringTest {
  private static final String P = "io.github.standalonecinder.provisioner";

  @ArchTest
  static final ArchRule provisionerUsesOnlyMappers = noClasses().should()
      .dependOnClassesThat(resideInAPackage("io.github.standalonecinder..")
          .and(not(resideInAnyPackage(P + "..", "io.github.standalonecinder.mappers.."))))
      .as("provisioner main depends on nothing of ours but mappers (not simulator, cmd)")
      .because("the direction is cmd -> provisioner -> mappers; the simulator is for tests, demo and by hand");

  @ArchTest
  static final ArchRule packagesFreeOfCycles = slices().matching(P + ".(*)..").should().beFreeOfCycles()
      .as("the provisioner's packages depend on each other without cycles");

  @ArchTest
  static final ArchRule cinderDoesNotUseConfig = noClasses().that().resideInAPackage(P + ".cinder..").should()
      .dependOnClassesThat().resideInAPackage(P + ".config..")
      .as("cinder does not depend on config")
      .because("config builds the Cinder gateway from the cloud.conf; what both need (tokens) is in auth");

  @ArchTest
  static final ArchRule authIsBottom = noClasses().that().resideInAPackage(P + ".auth..").should()
      .dependOnClassesThat(resideInAPackage(P + "..").and(not(resideInAPackage(P + ".auth.."))))
      .as("auth depends on no other provisioner package")
      .because("cinder and config both use it");
}
