package io.github.standalonecinder.mappers;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The dependency directions of the build (root pom), on this module's compiled main classes: mappers is the bottom
 * of the product and uses nothing else of ours.
 */
@AnalyzeClasses(packages = "io.github.standalonecinder.mappers", importOptions = ImportOption.DoNotIncludeTests.class)
class LayeringTest {
  @ArchTest
  static final ArchRule mappersUseNothingElseOfOurs = noClasses().should()
      .dependOnClassesThat(resideInAPackage("io.github.standalonecinder..")
          .and(not(resideInAPackage("io.github.standalonecinder.mappers.."))))
      .as("mappers depends on nothing of ours (not provisioner, simulator, cmd)")
      .because("the dependency direction is cmd -> provisioner -> mappers");
}
