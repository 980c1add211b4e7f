import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { MAPPING_PRESETS } from '@bridgekeeper/provisioning-model';

/** The attribute-mapping presets, one per IdP family: what `mappingPreset` (at POST /api/v1/idps) or the mapping-preset route would apply. */
@ApiTags('provisioning-settings')
@ApiBearerAuth()
@Controller('api/v1/mapping-presets')
export class MappingPresetsController {
  @Get()
  @ApiOperation({
    summary: 'The attribute-mapping presets, one per IdP family, with the mapping each applies',
    description:
      'Choose one when adding an IdP (mappingPreset at POST /api/v1/idps) or apply one later (POST /api/v1/idps/{idp}/provisioning/mapping-preset). docs/idps/ says what to configure at each IdP.',
  })
  list() {
    return { items: Object.entries(MAPPING_PRESETS).map(([name, mapping]) => ({ name, mapping })) };
  }
}
